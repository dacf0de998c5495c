import { assert_, assertEquals, assertRejects, assertThrows } from "../support/assert.ts";
import { buildFakeCapture, locationTable } from "../support/fake_capture.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { syntheticCapture } from "../support/synthetic.ts";
import { aggregateCapture, aggregateEvents } from "../../lib/capture/aggregate.ts";
import { encodeAggregated } from "../../lib/capture/aggregated_writer.ts";
import { CaptureError, UsageError } from "../../lib/capture/errors.ts";
import { Capture, readCaptureBytes } from "../../lib/capture/reader.ts";
import { encodeLz4Frame } from "../../lib/lz4/frame.ts";
import { selectSnapshot, SnapshotMode } from "../../lib/analysis/snapshot.ts";
import { dumpCapture } from "../../reporters/parse.ts";
import { runStats } from "../../reporters/stats.ts";
import { runSummary } from "../../reporters/summary.ts";

const VALLOC = 0x07;
const MALLOC = 0x01;
const CALLOC = 0x02;
const MMAP = 0x09;
const PAGE = 4096;

/** Writes `bytes` to a temp file, aggregates it in place, returns the new bytes. */
async function aggregated(bytes: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.bin`;
  await Deno.writeFile(path, bytes);
  await aggregateCapture(path);
  const out = await Deno.readFile(path);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["c.bin"]);
  await Deno.remove(dir, { recursive: true });
  return out;
}

/** Snapshot records in a form comparable across captures (stacks resolved). */
function rows(c: Capture, mode: SnapshotMode, merge_threads: boolean) {
  const s = selectSnapshot(c, { mode, merge_threads });
  return {
    heap_bytes: s.heap_bytes,
    records: s.records.map((r) => ({
      stack: c.python.frames(r.py_stack, r.thread_id === c.main_thread_id)
        .map((f) => `${f.function}:${f.filename}:${f.lineno}`),
      native: c.native.tree.frames(r.native_stack).map((f) => c.native.frames.ip[f]),
      thread: r.thread_id,
      allocator: r.allocator,
      size: r.size_bytes,
      count: r.count,
    })),
  };
}

const sortRecords = <T>(x: { heap_bytes: number; records: T[] }) => ({
  heap_bytes: x.heap_bytes,
  records: [...x.records].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
});

/** Aggregates `enc`'s capture and checks it against the full one; returns both. */
async function bothForms(enc: CaptureEncoder): Promise<{ full: Capture; agg: Capture }> {
  const full = readCaptureBytes(enc.finish(), "full.bin");
  const agg = readCaptureBytes(await aggregated(enc.finish()), "agg.bin");
  assertEquals(agg.header.aggregated, true);
  assertEquals(agg.header.packed, true);
  assertEquals(agg.events.count, 0);
  for (const merge of [true, false]) {
    // Peak records come in the same order; leaks in the same set.
    assertEquals(rows(agg, "high_water_mark", merge), rows(full, "high_water_mark", merge));
    assertEquals(sortRecords(rows(agg, "leaks", merge)), sortRecords(rows(full, "leaks", merge)));
  }
  return { full, agg };
}

/** An encoder with one thread and code objects f (lines 10-13) and g (lines 20-23). */
function twoFunctions(): CaptureEncoder {
  const enc = new CaptureEncoder({ chunk_size_bytes: 512 });
  for (const t of [1, 2]) {
    enc.thread(t).code({
      code_id: t * 2 - 1,
      first_line: 10,
      name: "f",
      filename: "/app/a.py",
      linetable: locationTable([0, 1, 1, 1]),
    });
    enc.thread(t).code({
      code_id: t * 2,
      first_line: 20,
      name: "g",
      filename: "/app/a.py",
      linetable: locationTable([0, 1, 1, 1]),
    });
  }
  enc.thread(1).pyStack(0, [{ code_id: 1, instr_offset_bytes: 0, is_entry: true }]);
  return enc;
}

/** Moves thread `t`'s top frame to line `10 + k` of f. */
const line = (enc: CaptureEncoder, k: number, t = 1) =>
  enc.thread(t).pyStack(1, [{ code_id: 1, instr_offset_bytes: 2 * k, is_entry: true }]);

Deno.test("aggregated peak: ties go to the latest point", async () => {
  const enc = twoFunctions();
  const t = enc.thread(1);
  t.alloc(VALLOC, 0x1000, 1024);
  t.free(0x1000);
  line(enc, 1);
  t.alloc(VALLOC, 0x2000, 1024);
  t.free(0x2000);
  const { agg } = await bothForms(enc);
  // The first allocation contributes nothing once the tie moved the peak: it is dropped.
  assertEquals(agg.locations.length, 1);
  const hwm = rows(agg, "high_water_mark", true);
  assertEquals(hwm.heap_bytes, 1024);
  assertEquals(hwm.records.map((r) => [r.stack[0], r.size, r.count]), [[
    "f:/app/a.py:11",
    1024,
    1,
  ]]);
  assertEquals(rows(agg, "leaks", true).records, []);
});

Deno.test("aggregated peak: frees, a larger later peak, two allocations on one line", async () => {
  const enc = twoFunctions();
  const t = enc.thread(1);
  t.alloc(VALLOC, 0x1000, 1024);
  t.free(0x1000);
  line(enc, 1);
  t.alloc(VALLOC, 0x2000, 2048);
  t.free(0x2000);
  line(enc, 2);
  t.alloc(VALLOC, 0x3000, 1024);
  t.alloc(VALLOC, 0x4000, 1024);
  line(enc, 3);
  t.alloc(VALLOC, 0x5000, 512);
  t.free(0x3000);
  t.free(0x4000);
  const { agg } = await bothForms(enc);
  const hwm = rows(agg, "high_water_mark", true);
  assertEquals(hwm.heap_bytes, 2560);
  assertEquals(hwm.records.map((r) => [r.stack[0], r.size, r.count]), [
    ["f:/app/a.py:12", 2048, 2],
    ["f:/app/a.py:13", 512, 1],
  ]);
  assertEquals(rows(agg, "leaks", true).records.map((r) => [r.size, r.count]), [[512, 1]]);
});

Deno.test("aggregated mmap: partial munmap shrinks and splits", async () => {
  const enc = twoFunctions();
  const t = enc.thread(1);
  t.alloc(MMAP, 0x100000, 2 * PAGE);
  t.munmap(0x100000, PAGE); // first page
  line(enc, 1);
  t.alloc(MMAP, 0x200000, 4 * PAGE);
  t.munmap(0x200000, PAGE); // first and last page
  t.munmap(0x203000, PAGE);
  line(enc, 2);
  t.alloc(MMAP, 0x300000, 3 * PAGE);
  t.munmap(0x301000, PAGE); // the middle: two pieces
  line(enc, 3);
  t.alloc(MMAP, 0x400000, 10 * PAGE);
  t.munmap(0x400000, 10 * PAGE);
  const { agg } = await bothForms(enc);
  const hwm = rows(agg, "high_water_mark", true);
  assertEquals(hwm.heap_bytes, (1 + 2 + 2 + 10) * PAGE);
  assertEquals(hwm.records.map((r) => [r.size / PAGE, r.count, r.allocator]), [
    [1, 1, MMAP],
    [2, 1, MMAP],
    [2, 2, MMAP], // memray counts each piece of a split mapping (checked against memray 1.20)
    [10, 1, MMAP],
  ]);
  assertEquals(rows(agg, "leaks", true).records.map((r) => r.size / PAGE), [1, 2, 2]);
});

Deno.test("aggregated leaks amid churn; unknown frees ignored", async () => {
  const enc = twoFunctions();
  const t = enc.thread(1);
  for (let i = 0; i < 200; i++) {
    line(enc, i % 3);
    t.alloc(MALLOC, 0x10000 + 16 * i, 100 + i);
    if (i === 77) {
      line(enc, 3);
      t.alloc(VALLOC, 0x900000, 2048);
    }
    t.free(0x10000 + 16 * i);
    t.free(0x1); // unknown
  }
  const { agg } = await bothForms(enc);
  const leaked = rows(agg, "leaks", true);
  assertEquals(leaked.heap_bytes, 2048);
  assertEquals(
    leaked.records.map((r) => [r.stack[0], r.allocator, r.size, r.count]),
    [["f:/app/a.py:13", VALLOC, 2048, 1]],
  );
});

Deno.test("aggregated locations: threads and allocators are kept apart", async () => {
  const enc = twoFunctions();
  enc.thread(2).pyStack(0, [{ code_id: 1, instr_offset_bytes: 0, is_entry: true }]);
  enc.thread(1).alloc(MALLOC, 0x1000, 100);
  enc.thread(2).alloc(MALLOC, 0x2000, 200);
  enc.thread(1).alloc(CALLOC, 0x3000, 300);
  const { agg } = await bothForms(enc);
  // Same stack in two threads, and two allocators at one location: three locations.
  assertEquals(
    agg.locations.map((l) => [l.thread_id, l.allocator, l.peak_bytes, l.leaked_bytes]),
    [[1, MALLOC, 100, 100], [2, MALLOC, 200, 200], [1, CALLOC, 300, 300]],
  );
  assertEquals(agg.locations[0].py_stack, agg.locations[1].py_stack);
  assertEquals(rows(agg, "high_water_mark", true).records.map((r) => [r.size, r.count]), [[
    600,
    3,
  ]]);
  assertEquals(rows(agg, "high_water_mark", false).records.map((r) => [r.thread, r.size]), [
    [1, 400],
    [2, 200],
  ]);
});

Deno.test("aggregating the fake capture: heap samples, names, codes, modules", async () => {
  const { full, agg } = await bothForms(buildFakeCapture());
  assertEquals(agg.heap_samples, [
    { time_offset_ms: 500, rss_bytes: 20_000_000, heap_bytes: 100 + 4000 + 32 + 1_000_000 },
    { time_offset_ms: 1500, rss_bytes: 25_000_000, heap_bytes: 4000 + 4096 + 64 },
  ]);
  assertEquals(agg.rss.map((r) => r.rss_bytes), full.rss.map((r) => r.rss_bytes));
  assertEquals(agg.threads.get(2)?.name, "worker-1");
  assertEquals([...agg.codes.keys()], [1, 2, 3, 4, 5]);
  assertEquals(agg.codes.get(4), full.codes.get(4));
  assertEquals(agg.module_maps, full.module_maps);
  assertEquals(agg.header.metadata, full.header.metadata);
  assertEquals(agg.header.finished, true);
  assertEquals(agg.header.native_traces, true);
});

Deno.test("only the CODE records the locations use are kept", async () => {
  const enc = twoFunctions();
  enc.thread(1).alloc(MALLOC, 0x10, 5);
  const agg = readCaptureBytes(await aggregated(enc.finish()), "a.bin");
  assertEquals([...agg.codes.keys()], [1]);
});

Deno.test("summary output is identical for the full and the aggregated capture", async () => {
  const dir = await Deno.makeTempDir();
  const full = `${dir}/full.bin`;
  const agg = `${dir}/agg.bin`;
  await Deno.writeFile(full, buildFakeCapture().finish());
  await Deno.writeFile(agg, buildFakeCapture().finish());
  await aggregateCapture(agg);
  for (const sortColumn of [1, 3, 5]) {
    const texts: string[] = [];
    for (const path of [full, agg]) {
      const parts: string[] = [];
      await runSummary({
        capturePath: path,
        sortColumn,
        maxRows: 10,
        color: false,
        stdout: (s) => parts.push(s),
      });
      texts.push(parts.join(""));
    }
    assert_(texts[0].includes("build at /work/app/app.py"));
    assertEquals(texts[1], texts[0]);
  }
  await assertRejects(
    () => runSummary({ capturePath: agg, temporaryAllocationThreshold: 1, stdout: () => {} }),
    UsageError,
    "Can't find temporary allocations using a pre-aggregated capture file.",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an aggregated capture is much smaller and keeps the peak", async () => {
  const raw = syntheticCapture(50_000, 2);
  const full = readCaptureBytes(raw, "s.bin");
  const t0 = performance.now();
  const out = await aggregated(raw);
  const ms = performance.now() - t0;
  const agg = readCaptureBytes(out, "a.bin");
  assert_(out.length * 20 < raw.length, `${out.length} bytes from ${raw.length}`);
  assertEquals(
    selectSnapshot(agg, { mode: "high_water_mark", merge_threads: true }).heap_bytes,
    selectSnapshot(full, { mode: "high_water_mark", merge_threads: true }).heap_bytes,
  );
  assert_(ms < 5000, `aggregating 100k events took ${ms} ms`);
});

Deno.test("LZ4 and crash-cut full captures aggregate too", async () => {
  const raw = buildFakeCapture().finish();
  const from_lz4 = await aggregated(encodeLz4Frame(raw));
  assertEquals(from_lz4, await aggregated(raw));
  // Cut the file inside the second chunk: what was complete is aggregated, finished stays unset.
  const enc = buildFakeCapture();
  const cut = enc.finish({ finished: false }).subarray(0, 4096 * 2 + 60);
  const full = readCaptureBytes(cut, "cut.bin");
  assert_(full.cut_off);
  const agg = readCaptureBytes(await aggregated(cut), "agg.bin");
  assertEquals(agg.header.finished, false);
  assertEquals(rows(agg, "leaks", true), rows(full, "leaks", true));
});

Deno.test("aggregating twice leaves the aggregated capture as it is", async () => {
  const once = await aggregated(buildFakeCapture().finish());
  assertEquals(await aggregated(once), once);
});

Deno.test("aggregation failure keeps the full capture and says why in one line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/bad.bin`;
  const bad = buildFakeCapture().finish();
  bad[4096 + 24] = 0x3f; // An unknown record type.
  await Deno.writeFile(path, bad);
  const e = await assertRejects(() => aggregateCapture(path), CaptureError, "unknown record type");
  assertEquals(e.message.includes("\n"), false);
  assertEquals(await Deno.readFile(path), bad);
  assertEquals([...Deno.readDirSync(dir)].map((x) => x.name), ["bad.bin"]);
  await assertRejects(() => aggregateCapture(`${dir}/missing.bin`), CaptureError, "aggregating");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stats refuses an aggregated capture with memray's message", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/a.bin`;
  await Deno.writeFile(path, await aggregated(buildFakeCapture().finish()));
  await assertRejects(
    () => runStats({ capturePath: path, stdout: () => {} }),
    UsageError,
    "Can't compute statistics using a pre-aggregated capture file.",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parse lists the records of an aggregated capture", async () => {
  const bytes = await aggregated(buildFakeCapture().finish());
  const lines: string[] = [];
  dumpCapture(bytes, "a.bin", (l) => lines.push(l));
  assert_(lines[0].includes("file_format=AGGREGATED_ALLOCATIONS layout=packed"));
  const locations = lines.filter((l) => l.startsWith("AGGREGATED_ALLOCATION "));
  assertEquals(locations.length, readCaptureBytes(bytes, "a.bin").locations.length);
  assert_(
    locations.some((l) =>
      l.includes("allocator=realloc") && l.includes("bytes_in_high_water_mark=2000000") &&
      l.includes("n_allocations_leaked=0")
    ),
    locations.join("\n"),
  );
  assertEquals(lines.filter((l) => l.startsWith("MEMORY_SNAPSHOT ")).length, 2);
  assert_(lines.includes("THREAD_SELECT tid=2"));
  assertEquals(lines.filter((l) => l.startsWith("ALLOCATION ")).length, 0);
});

Deno.test("corrupt aggregated captures give one-line errors", async () => {
  const good = await aggregated(buildFakeCapture().finish());
  const header = 4096;
  const truncated = good.subarray(0, good.length - 3);
  const bad_type = good.slice();
  bad_type[header + 24] = 0x5f;
  const with_events = good.slice();
  with_events[16] &= ~(1 << 2); // aggregated flag cleared: LOCATION records in a full capture
  const cases: [Uint8Array, string][] = [
    [truncated, "truncated"],
    [bad_type, "unknown record type 0x5f"],
    [with_events, "not aggregated"],
  ];
  for (const [bytes, what] of cases) {
    const e = assertThrows(() => readCaptureBytes(bytes, "x.bin"), CaptureError, what);
    assertEquals(e.message.startsWith("Cannot parse capture x.bin: "), true);
    assertEquals(e.message.includes("\n"), false);
  }
});

Deno.test("aggregated records split over several sampler chunks read the same", () => {
  const full = readCaptureBytes(buildFakeCapture().finish(), "f.bin");
  const a = aggregateEvents(full);
  const content = {
    heap_samples: a.heap_samples,
    threads: full.threads.values(),
    module_maps: full.module_maps,
    codes: a.codes,
    locations: a.locations,
  };
  const header = buildFakeCapture().finish().subarray(0, full.header.header_size_bytes);
  const one = readCaptureBytes(encodeAggregated(header, content), "one.bin");
  content.threads = full.threads.values();
  const many = readCaptureBytes(
    encodeAggregated(header, content, { chunk_limit_bytes: 40 }),
    "many.bin",
  );
  assertEquals(many.locations, one.locations);
  assertEquals(many.module_maps, one.module_maps);
  assertEquals(many.heap_samples, one.heap_samples);
  assertEquals(many.threads, one.threads);
  assertEquals(many.codes, one.codes);
});
