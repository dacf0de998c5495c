import { assertEquals } from "../../../tests/support/assert.ts";
import { readCaptureBytes } from "../../../lib/capture/reader.ts";
import { tableCapture } from "../../../tests/html/table_capture.ts";
import { capRecords, downsampleMemory, pageFacts, RawMemory, rawMemory } from "./page_common.ts";

Deno.test("the heap at each RSS sample is replayed from the events before it", () => {
  const capture = readCaptureBytes(tableCapture(), "fixture.bin");
  const raw = rawMemory(capture);
  const t0 = 1_700_000_000_000;
  assertEquals(raw.time_ms, [t0, t0 + 500, t0 + 1000, t0 + 1500]);
  assertEquals(raw.rss_bytes, [10_000_000, 12_000_000, 15_000_000, 13_000_000]);
  assertEquals(raw.heap_bytes, [0, 1_024_256, 3_393_888, 1_393_888]);
  assertEquals(raw.peak_bytes, 3_393_888);
  const facts = pageFacts(capture);
  assertEquals(facts.memory.peak_heap_index, 2);
  assertEquals(facts.memory.peak_rss_index, 2);
  assertEquals(facts.stats.command, "app.py --fixture");
  assertEquals(facts.stats.total_allocations, 10);
  assertEquals(facts.notes, []);
});

function series(n: number): RawMemory {
  const time_ms = Array.from({ length: n }, (_, i) => i * 10);
  const heap_bytes = time_ms.map((_, i) => (i === 4321 ? 1e9 : i % 97));
  const rss_bytes = time_ms.map((_, i) => (i === 777 ? 2e9 : 1e6 + i));
  return { time_ms, rss_bytes, heap_bytes, peak_bytes: 1e9 };
}

Deno.test("downsampling keeps at most the cap of points and never loses a peak", () => {
  const m = downsampleMemory(series(10_000), 2000);
  assertEquals(m.time_ms.length, 2000);
  assertEquals(m.downsampled_from, 10_000);
  assertEquals(m.heap_bytes[m.peak_heap_index], 1e9);
  assertEquals(m.rss_bytes[m.peak_rss_index], 2e9);
  assertEquals(m.time_ms[0], 0);
  const small = downsampleMemory(series(5), 2000);
  assertEquals(small.downsampled_from, undefined);
  assertEquals(small.time_ms.length, 5);
  assertEquals(downsampleMemory(series(0)).peak_heap_index, -1);
});

Deno.test("--max-memory-records strides samples, keeping the first and the last", () => {
  const capped = capRecords(series(100), 10);
  assertEquals(capped.time_ms.length, 10);
  assertEquals(capped.time_ms[0], 0);
  assertEquals(capped.time_ms[9], 990);
  assertEquals(capRecords(series(5), 10).time_ms.length, 5);
});
