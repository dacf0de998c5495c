import assert from "node:assert/strict";
import { foldCapture } from "./fold.ts";
import { loadReportLib } from "../ffi.ts";
import { parseHeader } from "../capture/header.ts";
import { CaptureEncoder } from "../../tests/support/capture_encoder.ts";

const lib = await loadReportLib();

Deno.test("foldCapture: totals and arrays of a small capture; a damaged one is refused", async () => {
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  t.pyStack(0, [{ code_id: 7, instr_offset_bytes: 4 }]);
  t.alloc(0x01, 0x1000, 100);
  t.alloc(0x01, 0x2000, 50);
  t.free(0x1000);
  t.alloc(0x0a, 0x3000, 50);
  const bytes = enc.finish();
  const header = parseHeader(bytes, "f.bin");
  const layout = {
    header_size_bytes: header.header_size_bytes,
    chunk_size_bytes: header.chunk_size_bytes,
    packed: header.packed,
  };
  const fractions: number[] = [];
  const fold = (await foldCapture(bytes, layout, { lib, onProgress: (f) => fractions.push(f) }))!;
  assert.ok(fractions.every((f) => f >= 0 && f <= 1));
  assert.equal(fold.event_count, 4);
  assert.equal(fold.alloc_count, 3);
  assert.equal(fold.alloc_bytes, 200);
  assert.equal(fold.peak_bytes, 150);
  assert.equal(fold.peak_index, 1);
  assert.equal(fold.end_heap_bytes, 100);
  assert.equal(fold.cut_off, false);
  assert.deepEqual([...fold.threads], [1]);
  assert.deepEqual([...fold.py_frames], [7, 0, 4]);
  assert.deepEqual([...fold.py_tree], [0, 0]);
  assert.deepEqual([...fold.stats_nodes], [1, 0, 200, 3]);
  assert.deepEqual([...fold.stats_sizes], [100, 1, 50, 2]);
  assert.deepEqual([...fold.stats_kinds], [0x01, 2, 0x0a, 1]);
  // Live at the peak: both blocks of stack 1, merged into one location.
  assert.deepEqual([...fold.peak_locations], [1, 0, 1, 0x01, 150, 2]);
  const damaged = bytes.slice();
  damaged[header.header_size_bytes + 24] = 0x22; // An unknown record type.
  assert.equal(await foldCapture(damaged, layout, { lib }), undefined);
});
