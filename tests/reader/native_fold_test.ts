/**
 * The native fold (report library, lib/capture/native_fold.ts) against the TypeScript scan it
 * replaces (lib/capture/event_scan.ts + lib/analysis/streaming.ts), which stays the fallback:
 * `stats` and the peak snapshot must come out identical — raw stack node ids included, since both
 * intern stacks in the same order — on fixtures, synthetic captures, edge cases, captures cut at
 * every few bytes, and damaged captures (the same error, or the same result).
 */
import { assert_ as assert, assertEquals } from "../support/assert.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { buildFakeCapture, locationTable } from "../support/fake_capture.ts";
import { withFile } from "../support/files.ts";
import { syntheticCapture } from "../support/synthetic.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { parseHeader } from "../../lib/capture/header.ts";
import { foldNative } from "../../lib/capture/native_fold.ts";
import { packCapture } from "../../lib/capture/pack.ts";
import * as R from "../../lib/capture/records.ts";
import { loadReportLib } from "../../lib/ffi.ts";
import { encodeLz4Frame } from "../../lib/lz4/frame.ts";
import { streamPeakSnapshot, streamStatistics } from "../../lib/analysis/streaming.ts";
import { StatsAccumulator } from "../../lib/analysis/stats.ts";
import { scanEvents } from "../../lib/capture/event_scan.ts";

const lib = await loadReportLib();

/** Two threads: stacks (PY_TOP_HIT/DELTA, native), every kind of record and event edge case. */
function edgeCapture(chunk_size_bytes = 512): Uint8Array {
  const enc = new CaptureEncoder({ chunk_size_bytes, python_hexversion: 0x030b07f0 });
  const a = enc.thread(1);
  const b = enc.thread(2);
  a.threadInfo(101, 1);
  a.threadName("main");
  for (let id = 1; id <= 3; id++) {
    a.code({
      code_id: id,
      first_line: 10 * id,
      name: `f${id}`,
      filename: `/app/m${id}.py`,
      linetable: locationTable([0, 1, 1, 1, 1]),
    });
  }
  enc.sampler.modules(1, [{
    path: "/usr/lib/libc.so.6",
    load_base: 0x7f0000000000,
    build_id: Uint8Array.of(1, 2, 3),
    segments: [{ vaddr: 0, memsz: 0x1000 }],
  }]);
  a.pyStack(0, [{ code_id: 1, instr_offset_bytes: 0 }, { code_id: 2, instr_offset_bytes: 4 }]);
  a.nativeStack(0, [0x401000, 0x401100]);
  a.alloc(R.REC_ALLOC_FIRST, 0x1000, 100); // heap 100
  b.threadInfo(102, 0);
  b.pyStack(0, [{ code_id: 3, instr_offset_bytes: 2, is_entry: true }]);
  b.free(0x1000); // Another thread's allocation: heap 0.
  b.alloc(R.REC_ALLOC_FIRST, 0x2000, 100); // heap 100: a tie, the latest wins.
  a.free(0xdead0); // Unknown address: ignored.
  a.free(0x2000, R.REC_PYMALLOC_FREE);
  a.pyStack(1, [{ code_id: 2, instr_offset_bytes: 8 }]); // PY_TOP_DELTA
  a.alloc(0x02, 0x3000, 64); // calloc: an escaped kind byte.
  a.free(0x3000);
  a.alloc(0x03, 0x3010, 128); // realloc: a free, then the new block.
  a.pyStack(1, [{ code_id: 2, instr_offset_bytes: 4 }]); // PY_TOP_HIT
  a.alloc(R.REC_PYMALLOC_MALLOC, 0x3020, 32);
  a.alloc(R.REC_ALLOC_FIRST, 0x3020, 48); // Missing free: the address is reused.
  enc.sampler.rss(5, 1 << 20);
  enc.seq += 4; // Seqs nobody used: a SEQ_SKIP.
  a.alloc(R.ALLOC_MMAP, 0x7000000, 0x10000);
  b.munmap(0x7004000, 0x1000); // Splits the mapping.
  b.nativeStack(0, [0x402000]);
  enc.seq += 40;
  b.alloc(R.ALLOC_MMAP, 0x8000000, 0x1000);
  b.munmap(0x7000000, 0x2000); // Shrinks the left piece.
  b.alloc(R.REC_ALLOC_FIRST, 0x9000, 0x4000); // The peak: both pieces live.
  b.munmap(0x7002000, 0x20000); // Spans the rest of the mapping and past it.
  b.threadName("worker");
  for (let i = 0; i < 300; i++) {
    const t = i % 3 === 0 ? b : a;
    if (i % 7 === 0) t.pyStack(1, [{ code_id: 1 + (i % 3), instr_offset_bytes: 2 * (i % 5) }]);
    t.alloc(R.REC_ALLOC_FIRST, 0x20000 + 16 * (i % 37), 8 + (i % 50));
    if (i % 2 === 1) t.free(0x20000 + 16 * ((i * 7) % 37));
  }
  enc.sampler.rss(10, 2 << 20);
  return enc.finish();
}

/** `stats` and both peak snapshots, or the error, through one path. */
async function reports(path: string, native: boolean): Promise<unknown> {
  try {
    const s = await streamStatistics(path, 5, { progress: false, native });
    const merged = await streamPeakSnapshot(path, { merge_threads: true, progress: false, native });
    const split = await streamPeakSnapshot(path, { merge_threads: false, progress: false, native });
    const c = merged.capture;
    return {
      stats: s.stats,
      merged: merged.snapshot,
      split: split.snapshot,
      // What the reports read of the capture besides the snapshot.
      cut_off: c.cut_off,
      threads: [...c.threads.values()],
      codes: [...c.codes.values()],
      rss: c.rss,
      module_maps: c.module_maps,
      py_tree: [...c.python.tree.parent.subarray(0, c.python.tree.count)],
      py_frames: [...c.python.tree.frame.subarray(0, c.python.tree.count)],
      frame_table: c.python.frame_table,
      native_tree: [...c.native.tree.parent.subarray(0, c.native.tree.count)],
      native_ips: c.native.frames.ip,
    };
  } catch (e) {
    if (e instanceof CaptureError) return { error: e.message };
    throw e;
  }
}

async function assertSamePaths(bytes: Uint8Array): Promise<unknown> {
  return await withFile(bytes, async (path) => {
    const native = await reports(path, true);
    const ts = await reports(path, false);
    assertEquals(native, ts);
    return ts;
  });
}

/** The fold itself accepted the capture (no silent fallback to the TypeScript scan). */
async function assertFoldedNatively(bytes: Uint8Array): Promise<void> {
  const header = parseHeader(bytes, "n.bin");
  const folded = await foldNative(bytes, header, "n.bin", {
    lib,
    merge_threads: true,
    compressed: false,
  });
  assert(folded !== undefined, "the native fold refused a valid capture");
}

const captures: [string, () => Uint8Array][] = [
  ["the fake capture", () => buildFakeCapture().finish()],
  ["the fake capture, small chunks", () => buildFakeCapture({ chunk_size_bytes: 256 }).finish()],
  ["edge cases", () => edgeCapture()],
  ["edge cases, one big chunk per thread", () => edgeCapture(1 << 16)],
  ["edge cases, packed", () => packCapture(edgeCapture(), "e.bin")],
  ["synthetic, one thread", () => syntheticCapture(30_000)],
  ["synthetic, three threads", () => syntheticCapture(30_000, 3)],
  ["no events", () => new CaptureEncoder().finish()],
];

for (const [name, make] of captures) {
  Deno.test(`native fold equals the TypeScript scan: ${name}`, async () => {
    const bytes = make();
    await assertFoldedNatively(bytes);
    const result = await assertSamePaths(bytes) as { error?: string };
    assertEquals(result.error, undefined);
    await assertSamePaths(encodeLz4Frame(bytes));
  });
}

/** One thread, one frame per stack, code ids 1-3; `body` writes the events. */
function smallCapture(body: (t: ReturnType<CaptureEncoder["thread"]>) => void): Uint8Array {
  const enc = new CaptureEncoder({ python_hexversion: 0x030b07f0 });
  const t = enc.thread(1);
  for (let id = 1; id <= 3; id++) {
    t.code({
      code_id: id,
      first_line: id,
      name: `f${id}`,
      filename: "/a.py",
      linetable: locationTable([0]),
    });
  }
  body(t);
  return enc.finish();
}

interface Peak {
  merged: {
    heap_bytes: number;
    records: { allocator: number; size_bytes: number; count: number }[];
  };
}

Deno.test("native fold: a peak tie goes to the latest event", async () => {
  const bytes = smallCapture((t) => {
    t.pyStack(0, [{ code_id: 1, instr_offset_bytes: 0 }]);
    t.alloc(R.REC_ALLOC_FIRST, 0x1000, 100);
    t.free(0x1000);
    t.pyStack(1, [{ code_id: 2, instr_offset_bytes: 0 }]);
    t.alloc(R.REC_ALLOC_FIRST, 0x2000, 100); // The same heap: this point wins.
    t.free(0x2000);
  });
  await assertFoldedNatively(bytes);
  const { merged } = await assertSamePaths(bytes) as Peak;
  assertEquals(merged.heap_bytes, 100);
  assertEquals(merged.records.length, 1);
  assertEquals(merged.records[0].size_bytes, 100);
});

Deno.test("native fold: the pieces of a split mapping count apart at the peak", async () => {
  const bytes = smallCapture((t) => {
    t.pyStack(0, [{ code_id: 3, instr_offset_bytes: 0 }]);
    t.alloc(R.ALLOC_MMAP, 0x100000, 0x10000);
    t.munmap(0x104000, 0x1000); // Two pieces, 0xf000 bytes.
    t.alloc(R.REC_ALLOC_FIRST, 0x2000, 0x1001); // A new peak: 0x10001.
    t.munmap(0x100000, 0x20000); // All gone after the peak.
    t.free(0x2000);
  });
  await assertFoldedNatively(bytes);
  const { merged } = await assertSamePaths(bytes) as Peak;
  assertEquals(merged.heap_bytes, 0x10001);
  // One location (one stack), its allocator that of its first allocation: two pieces + a block.
  assertEquals(merged.records.map((r) => [r.allocator, r.size_bytes, r.count]), [
    [R.ALLOC_MMAP, 0xf000 + 0x1001, 3],
  ]);
});

Deno.test("native fold: a capture cut off anywhere reads as the TypeScript scan reads it", async () => {
  const bytes = edgeCapture(1 << 12);
  const header = parseHeader(bytes, "c.bin");
  // Every 7th byte from the first chunk on, and the last 40 bytes one by one.
  const cuts = [];
  for (let n = header.header_size_bytes; n < bytes.length - 40; n += 7) cuts.push(n);
  for (let n = bytes.length - 40; n <= bytes.length; n++) cuts.push(n);
  for (const n of cuts) {
    const cut = bytes.slice(0, n);
    const result = await assertSamePaths(cut) as { error?: string };
    if (result.error === undefined) await assertFoldedNatively(cut);
  }
});

Deno.test("native fold: damaged captures give the TypeScript scan's error or result", async () => {
  const bytes = edgeCapture(1 << 12);
  const header = parseHeader(bytes, "d.bin");
  let x = 12345;
  let errors = 0;
  for (let k = 0; k < 150; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const bad = bytes.slice();
    const at = header.header_size_bytes + (x % (bytes.length - header.header_size_bytes));
    bad[at] ^= 1 << ((x >>> 16) % 8);
    const result = await assertSamePaths(bad) as { error?: string };
    if (result.error !== undefined) errors++;
  }
  // Some flips must have hit something the readers refuse, or the test shows nothing.
  assert(errors > 0, "no damaged capture was refused");
});

Deno.test("native fold: stats totals per (Python, native) stack pair equal the scan's", async () => {
  const bytes = edgeCapture();
  const header = parseHeader(bytes, "e.bin");
  const folded = await foldNative(bytes, header, "e.bin", {
    lib,
    merge_threads: false,
    compressed: false,
  });
  assert(folded !== undefined, "the edge capture folds natively");
  const acc = new StatsAccumulator();
  scanEvents(bytes, header, "e.bin", { onBatch: (b) => acc.add(b) });
  const expected = acc.stacks().flat();
  assertEquals([...folded.fold.stats_nodes], expected);
  const pairs = acc.stacks();
  assert(pairs.some(([, native]) => native !== 0), "pairs with a native stack");
  assert(pairs.some(([, native]) => native === 0), "and pairs without");
});

Deno.test("native fold: an event whose seq another thread also used steps aside for the scan", async () => {
  // Thread 1 has seqs 1 and 5 (a skip between), thread 2 one event at seq 5: the merge must not
  // fold both fives (the fold asserts strictly increasing seqs) but hand the file to the scan.
  const enc = new CaptureEncoder({ chunk_size_bytes: 512, python_hexversion: 0x030b07f0 });
  const a = enc.thread(1);
  const b = enc.thread(2);
  a.alloc(R.REC_ALLOC_FIRST, 0x1000, 100, 1);
  a.alloc(R.REC_ALLOC_FIRST, 0x2000, 100, 5);
  b.alloc(R.REC_ALLOC_FIRST, 0x3000, 100, 5);
  await withFile(enc.finish(), async (path) => {
    assertEquals(await reports(path, true), await reports(path, false));
  });
});
