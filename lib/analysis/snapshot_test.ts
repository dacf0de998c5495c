/**
 * Snapshot modes over fake records, threads merged and split (reference §9 items 6-9 and 19). The
 * expected values follow memray 1.20 (checked against its FileReader on real captures in
 * tests/memray_format/temporal_vs_memray_test.ts).
 */
import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { UsageError } from "../capture/errors.ts";
import { ALLOC_MMAP, REC_FREE, REC_MUNMAP } from "../capture/records.ts";
import { fakeCapture as fake, FakeOp as Op } from "./fake_events.ts";
import { AGGREGATED_TEMPORARY_MESSAGE, selectSnapshot, SnapshotMode } from "./snapshot.ts";

const VALLOC = 0x07;
const MALLOC = 0x01;
const PAGE = 4096;

/** Records as [thread, Python stack, bytes, count], and the heap. */
function rows(ops: Op[], mode: SnapshotMode, merge_threads: boolean, threshold?: number) {
  const s = selectSnapshot(fake(ops), { mode, merge_threads, temporary_threshold: threshold });
  return {
    heap: s.heap_bytes,
    records: s.records.map((
      r,
    ) => [merge_threads ? 0 : r.thread_id, r.py_stack, r.size_bytes, r.count]),
  };
}

Deno.test("peak: ties go to the latest point; split threads keep the global peak", () => {
  const ops: Op[] = [
    [VALLOC, 1, 1, 0x10, 1024],
    [REC_FREE, 1, 0, 0x10, 0],
    [VALLOC, 2, 1, 0x20, 1024], // ties the first peak: this one is shown
  ];
  assertEquals(rows(ops, "high_water_mark", true), { heap: 1024, records: [[0, 1, 1024, 1]] });
  assertEquals(rows(ops, "high_water_mark", false), { heap: 1024, records: [[2, 1, 1024, 1]] });
});

Deno.test("peak with split threads: records of the global peak keyed by thread", () => {
  const ops: Op[] = [
    [VALLOC, 1, 1, 0x10, 100],
    [VALLOC, 2, 1, 0x20, 300],
    [VALLOC, 1, 1, 0x30, 50], // global peak: 450
    [REC_FREE, 2, 0, 0x20, 0],
    [VALLOC, 1, 1, 0x40, 200], // thread 1's own peak (350) is not the global one
  ];
  assertEquals(rows(ops, "high_water_mark", false), {
    heap: 450,
    records: [[1, 1, 150, 2], [2, 1, 300, 1]],
  });
  assertEquals(rows(ops, "high_water_mark", true), { heap: 450, records: [[0, 1, 450, 3]] });
});

Deno.test("peak: partial munmap shrinks; a split mapping counts each piece", () => {
  const ops: Op[] = [
    [ALLOC_MMAP, 1, 1, 0x100000, 2 * PAGE],
    [REC_MUNMAP, 1, 0, 0x100000, PAGE], // first page
    [ALLOC_MMAP, 1, 2, 0x200000, 3 * PAGE],
    [REC_MUNMAP, 1, 0, 0x201000, PAGE], // the middle page: two pieces
    [ALLOC_MMAP, 1, 3, 0x300000, 10 * PAGE],
    [REC_MUNMAP, 1, 0, 0x300000, 10 * PAGE],
  ];
  assertEquals(rows(ops, "high_water_mark", true), {
    heap: 13 * PAGE,
    records: [[0, 1, PAGE, 1], [0, 2, 2 * PAGE, 2], [0, 3, 10 * PAGE, 1]],
  });
  assertEquals(rows(ops, "leaks", true).records, [[0, 1, PAGE, 1], [0, 2, 2 * PAGE, 2]]);
});

Deno.test("leaks amid churn; frees of unknown addresses ignored", () => {
  const ops: Op[] = [];
  for (let i = 0; i < 100; i++) {
    ops.push([MALLOC, 1 + (i % 2), 1, 0x1000 + 16 * i, 100 + i]);
    if (i === 40) ops.push([VALLOC, 2, 2, 0x900000, 2048]);
    ops.push([REC_FREE, 1, 0, 0x1000 + 16 * i, 0], [REC_FREE, 1, 0, 0x1, 0]);
  }
  assertEquals(rows(ops, "leaks", false), { heap: 2048, records: [[2, 2, 2048, 1]] });
  assertEquals(rows(ops, "leaks", true), { heap: 2048, records: [[0, 2, 2048, 1]] });
});

Deno.test("temporary: threshold k finds frees within k later allocations of the thread", () => {
  // k+1 allocations, then freed newest first: threshold k-1 finds exactly k of them.
  const k = 4;
  const ops: Op[] = [];
  for (let i = 0; i <= k; i++) ops.push([VALLOC, 1, 1, 0x100 * (i + 1), 10]);
  for (let i = k; i >= 0; i--) ops.push([REC_FREE, 1, 0, 0x100 * (i + 1), 0]);
  assertEquals(rows(ops, "temporary", true, k - 1).records, [[0, 1, 10 * k, k]]);
  assertEquals(rows(ops, "temporary", true, 0).records, [[0, 1, 10, 1]]);
  assertEquals(rows(ops, "temporary", true, k).records, [[0, 1, 10 * (k + 1), k + 1]]);
});

Deno.test("temporary: detection is per thread, interleaving does not break it", () => {
  const ops: Op[] = [];
  for (let i = 0; i < 10; i++) {
    ops.push([VALLOC, 1, 1, 0x1000 + i * 16, 8]);
    ops.push([VALLOC, 2, 2, 0x9000 + i * 16, 16]);
    ops.push([REC_FREE, 1, 0, 0x1000 + i * 16, 0]);
    ops.push([REC_FREE, 2, 0, 0x9000 + i * 16, 0]);
  }
  assertEquals(rows(ops, "temporary", false, 1).records, [[1, 1, 80, 10], [2, 2, 160, 10]]);
  // A free on another thread than the allocation's is not a temporary allocation.
  const cross: Op[] = [[VALLOC, 1, 1, 0x10, 8], [REC_FREE, 2, 0, 0x10, 0]];
  assertEquals(rows(cross, "temporary", false, 1).records, []);
});

Deno.test("temporary mode refuses aggregated captures with memray's message", () => {
  const agg = fake([], { aggregated: true });
  assertThrows(
    () => selectSnapshot(agg, { mode: "temporary", merge_threads: false }),
    UsageError,
    AGGREGATED_TEMPORARY_MESSAGE,
  );
  assertEquals(selectSnapshot(agg, { mode: "leaks", merge_threads: true }).records, []);
});
