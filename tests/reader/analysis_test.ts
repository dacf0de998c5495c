import { assertEquals } from "../support/assert.ts";
import { buildFakeCapture } from "../support/fake_capture.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import { LiveTable } from "../../lib/analysis/live_table.ts";
import { highWaterMark, leaks, liveAt } from "../../lib/analysis/replay.ts";
import { groupByLocation } from "../../lib/analysis/locations.ts";
import { computeStatistics } from "../../lib/analysis/stats.ts";
import { functionTotals } from "../../lib/analysis/summary.ts";

const fake = () => readCaptureBytes(buildFakeCapture().finish(), "fake.bin");

Deno.test("high-water mark of the fake capture is the realloc of 2 MB", () => {
  const c = fake();
  const hwm = highWaterMark(c.events);
  // 4000 calloc + 32 pymalloc + 4096 mmap page left + 2_000_000 realloc.
  assertEquals(hwm.peak_bytes, 4000 + 32 + 4096 + 2_000_000);
  assertEquals(c.events.kind[hwm.peak_index], 0x03);
  // Leaked: calloc 4000, one mmap page, 64 at module level, 500 in the worker.
  assertEquals(hwm.final_bytes, 4000 + 4096 + 64 + 500);
  const leaked = leaks(c.events);
  assertEquals(Array.from(leaked.bytes).sort((a, b) => a - b), [64, 500, 4000, 4096]);
});

Deno.test("ties of the peak go to the latest point", () => {
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  t.alloc(1, 0x10, 100);
  t.free(0x10);
  t.alloc(1, 0x20, 100);
  const c = readCaptureBytes(enc.finish(), "t.bin");
  assertEquals(highWaterMark(c.events), { peak_index: 2, peak_bytes: 100, final_bytes: 100 });
});

Deno.test("munmap shrinks and splits mapped ranges; unknown frees are ignored", () => {
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  t.alloc(9, 0x10000, 0x3000); // three pages
  t.munmap(0x11000, 0x1000); // punch out the middle page
  t.free(0x999); // unknown: ignored
  t.alloc(9, 0x20000, 0x1000);
  t.munmap(0x12000, 0x1000); // last page of the first mapping
  t.munmap(0x0, 0x10800); // half of the first page
  const c = readCaptureBytes(enc.finish(), "m.bin");
  const set = new LiveTable();
  const heap: number[] = [];
  for (let i = 0; i < c.events.count; i++) {
    set.applyEvent(c.events, i);
    heap.push(set.heap_bytes);
  }
  assertEquals(heap, [0x3000, 0x2000, 0x2000, 0x3000, 0x2000, 0x1800]);
  const live = liveAt(c.events, c.events.count - 1);
  assertEquals(Array.from(live.index), [0, 3]);
  assertEquals(Array.from(live.bytes), [0x800, 0x1000]);
});

Deno.test("snapshot records group by stack, merged threads", () => {
  const c = fake();
  const hwm = highWaterMark(c.events);
  const records = groupByLocation(c, liveAt(c.events, hwm.peak_index), { merge_threads: true });
  const sizes = records.map((r) => r.size_bytes);
  assertEquals(sizes, [4000 + 32 + 4096, 2_000_000]);
  const totals = functionTotals(c, records);
  const build = totals.find((t) => t.function === "build")!;
  const module = totals.find((t) => t.function === "<module>")!;
  assertEquals(build.own_bytes, 2_008_128);
  assertEquals(module.own_bytes, 0);
  assertEquals(module.total_bytes, 2_008_128);
  assertEquals(module.count, 4);
});

Deno.test("whole-run statistics", () => {
  const s = computeStatistics(fake(), 3);
  assertEquals(s.total_num_allocations, 8);
  assertEquals(s.total_memory_allocated, 100 + 4000 + 32 + 1_000_000 + 8192 + 2_000_000 + 64 + 500);
  assertEquals(s.allocation_count_by_allocator.get("MALLOC"), 4);
  assertEquals(s.top_locations_by_size[0], [["build", "/work/app/app.py", 13], 2_000_000]);
  assertEquals(s.top_locations_by_size.length, 3);
  assertEquals(s.top_modules_by_size.map((m) => m.module), ["app", "numpy"]);
  assertEquals(s.peak_memory, 2_008_128);
  assertEquals(s.total_records, 13);
});
