/**
 * Temporal mode over fake records. Expected values are those of memray 1.20's own aggregators
 * (`AllocationLifetimeAggregatorTestHarness`, `HighWaterMarkAggregatorTestHarness`) fed the same
 * sequences; tests/memray_format/temporal_vs_memray_test.ts compares whole real captures.
 */
import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { UsageError } from "../capture/errors.ts";
import { FAKE_START_MS as START_MS, fakeCapture as fake, FakeOp as Op } from "./fake_events.ts";
import { ALLOC_MMAP, REC_FREE, REC_MUNMAP } from "../capture/records.ts";
import {
  AGGREGATED_TEMPORAL_MESSAGE,
  memorySnapshots,
  temporalAllocations,
  TemporalData,
  temporalHighWaterMark,
} from "./temporal.ts";

const CALLOC = 0x02;

/** Locations as [thread, Python stack, allocator, intervals as tuples]. */
function rows(d: TemporalData) {
  return d.locations.map((l) => [
    l.thread_id,
    l.py_stack,
    l.allocator,
    l.intervals.map((i) => [
      i.allocated_before_snapshot,
      i.deallocated_before_snapshot,
      i.n_allocations,
      i.n_bytes,
    ]),
  ]);
}

const split = { merge_threads: false };

// Two locations, churn within snapshots, an unknown free.
const CHURN: Op[] = [
  [CALLOC, 1, 1, 0x10, 100],
  [CALLOC, 1, 2, 0x20, 50],
  [REC_FREE, 1, 0, 0x10, 0],
  "S",
  [CALLOC, 1, 1, 0x30, 30],
  "S",
  [REC_FREE, 1, 0, 0x20, 0],
  [CALLOC, 1, 1, 0x40, 500],
  [REC_FREE, 1, 0, 0x40, 0],
  [REC_FREE, 1, 0, 0x999, 0],
];

Deno.test("temporal allocations: lifetimes by snapshot, same-snapshot frees dropped", () => {
  assertEquals(rows(temporalAllocations(fake(CHURN), split)), [
    [1, 1, CALLOC, [[1, null, 1, 30]]],
    [1, 2, CALLOC, [[0, 2, 1, 50]]],
  ]);
});

Deno.test("temporal high-water mark: contributions to each snapshot's peak", () => {
  const d = temporalHighWaterMark(fake(CHURN), split);
  assertEquals(rows(d), [
    [1, 1, CALLOC, [[0, 1, 1, 100], [1, 2, 1, 30], [2, 3, 2, 530], [3, null, 1, 30]]],
    [1, 2, CALLOC, [[0, 2, 1, 50], [2, null, 0, 0]]],
  ]);
  assertEquals(d.hwm_bytes_by_snapshot, [150, 80, 530]);
});

// A mapping split by a munmap, then both pieces unmapped by one munmap.
const SPLIT_MAPPING: Op[] = [
  [ALLOC_MMAP, 1, 3, 0x1000, 0x3000],
  "S",
  [REC_MUNMAP, 1, 0, 0x2000, 0x1000],
  "S",
  [REC_MUNMAP, 1, 0, 0x1000, 0x3000],
];

Deno.test("temporal mmap: a split mapping counts bytes; memray counts no allocation freed", () => {
  // memray counts the allocation only when no other piece of it is referenced, so a munmap that
  // removes both pieces at once counts 0 for each.
  assertEquals(rows(temporalAllocations(fake(SPLIT_MAPPING), split)), [
    [1, 3, ALLOC_MMAP, [[0, 1, 0, 0x1000], [0, 2, 0, 0x2000]]],
  ]);
  const d = temporalHighWaterMark(fake(SPLIT_MAPPING), split);
  // The split adds one allocation (two pieces), as in memray's peak records.
  assertEquals(rows(d), [[1, 3, ALLOC_MMAP, [[0, 2, 1, 0x3000], [2, 3, 2, 0x2000], [
    3,
    null,
    0,
    0,
  ]]]]);
  assertEquals(d.hwm_bytes_by_snapshot, [0x3000, 0x3000, 0x2000]);
});

Deno.test("temporal mmap: shrink then free counts the allocation at the last piece", () => {
  const ops: Op[] = [
    [ALLOC_MMAP, 1, 3, 4096, 1234],
    "S",
    [REC_MUNMAP, 1, 0, 4096, 1000],
    "S",
    [REC_MUNMAP, 1, 0, 4096, 1234],
  ];
  assertEquals(rows(temporalAllocations(fake(ops), split)), [
    [1, 3, ALLOC_MMAP, [[0, 1, 0, 1000], [0, 2, 1, 234]]],
  ]);
});

// Same stack on two threads; thread 2 reuses an address without a free.
const THREADS: Op[] = [
  [CALLOC, 1, 1, 0x10, 100],
  "S",
  [CALLOC, 2, 1, 0x20, 100],
  [CALLOC, 2, 1, 0x20, 70],
  "S",
  [REC_FREE, 1, 0, 0x10, 0],
];

Deno.test("temporal threads split: one location per thread; a missing free as memray", () => {
  // Lifetimes forget the overwritten allocation; the high-water mark keeps it counted.
  assertEquals(rows(temporalAllocations(fake(THREADS), split)), [
    [1, 1, CALLOC, [[0, 2, 1, 100]]],
    [2, 1, CALLOC, [[1, null, 1, 70]]],
  ]);
  const d = temporalHighWaterMark(fake(THREADS), split);
  assertEquals(rows(d), [
    [1, 1, CALLOC, [[0, 3, 1, 100], [3, null, 0, 0]]],
    [2, 1, CALLOC, [[1, null, 2, 170]]],
  ]);
  assertEquals(d.hwm_bytes_by_snapshot, [100, 270, 270]);
});

Deno.test("temporal threads merged: one location, thread 0", () => {
  const merged = { merge_threads: true };
  assertEquals(rows(temporalAllocations(fake(THREADS), merged)), [
    [0, 1, CALLOC, [[0, 2, 1, 100], [1, null, 1, 70]]],
  ]);
  assertEquals(rows(temporalHighWaterMark(fake(THREADS), merged)), [
    [0, 1, CALLOC, [[0, 1, 1, 100], [1, 3, 3, 270], [3, null, 2, 170]]],
  ]);
});

Deno.test("memory snapshots: heap before each sample, epoch times, memray's stride", () => {
  const ops: Op[] = [];
  for (let k = 0; k < 25; k++) ops.push([CALLOC, 1, 1, 0x10 * (k + 1), 10], "S");
  const all = memorySnapshots(fake(ops));
  assertEquals(all.length, 25);
  assertEquals(all[3], { time_ms: START_MS + 30, rss_bytes: 1003, heap_bytes: 40 });
  // 25 samples, at most 10: every 3rd (ceil(25 / 10)), from the first.
  const strided = memorySnapshots(fake(ops), { max_memory_records: 10 });
  assertEquals(strided.map((s) => s.rss_bytes), [
    1000,
    1003,
    1006,
    1009,
    1012,
    1015,
    1018,
    1021,
    1024,
  ]);
  // Only the kept samples are snapshot boundaries: allocation k is before boundary ceil(k / 3).
  const d = temporalAllocations(fake(ops), { merge_threads: true, max_memory_records: 10 });
  assertEquals(d.snapshots.length, 9);
  const expected = [[0, 1]];
  for (let g = 1; g <= 8; g++) expected.push([g, 3]);
  assertEquals(
    d.locations[0].intervals.map((i) => [i.allocated_before_snapshot, i.n_allocations]),
    expected,
  );
});

Deno.test("temporal modes refuse aggregated captures with memray's message", () => {
  const agg = fake([], { aggregated: true });
  assertThrows(() => temporalAllocations(agg, split), UsageError, AGGREGATED_TEMPORAL_MESSAGE);
  assertThrows(() => temporalHighWaterMark(agg, split), UsageError, AGGREGATED_TEMPORAL_MESSAGE);
  assertEquals(memorySnapshots(agg), []);
});
