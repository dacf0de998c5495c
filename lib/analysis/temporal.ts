/**
 * Temporal mode (reference §2.1, §2.3 `--temporal`): allocations over time, for the temporal flame
 * graph. Every RSS sample (memray's MEMORY_RECORD) is a snapshot boundary; allocations are counted
 * per location — (thread, or 0 when threads are merged; Python stack; native stack; allocator) —
 * and per range of snapshots. Two views, as memray's FileReader gives them:
 *
 * - {@link temporalAllocations} (memray's `AllocationLifetimeAggregator`, used by
 *   `flamegraph --temporal --leaks`): when each location's allocations were made and freed.
 * - {@link temporalHighWaterMark} (`HighWaterMarkAggregator`, used by `flamegraph --temporal`): each
 *   location's contribution to the highest heap point of every snapshot interval.
 *
 * Snapshot numbers: an interval's `allocated_before_snapshot` k means "allocated after RSS sample
 * k-1 (or the start) and before sample k". Only samples that come before the capture's last event
 * are boundaries (memray stops reading at the last allocation record).
 */
import { UsageError } from "../capture/errors.ts";
import type { Capture } from "../capture/reader.ts";
import { ALLOC_MMAP, REC_FREE, REC_MUNMAP, REC_PYMALLOC_FREE } from "../capture/records.ts";
import { LocationIds } from "./temporal_locations.ts";
import { MappedRanges } from "./temporal_ranges.ts";
import { highWaterMarkHistory } from "./temporal_hwm.ts";

/** memray's refusal of both temporal modes on an aggregated capture. */
export const AGGREGATED_TEMPORAL_MESSAGE =
  "Can't get allocation history using a pre-aggregated capture file.";

/** memray's FileReader default for `--max-memory-records`. */
export const DEFAULT_MAX_MEMORY_RECORDS = 10000;

/** One RSS sample with the heap (live tracked bytes) at that moment: memray's `MemorySnapshot`. */
export interface MemorySnapshot {
  /** Milliseconds since the Unix epoch. */
  time_ms: number;
  rss_bytes: number;
  heap_bytes: number;
}

/**
 * Allocations of one location over a range of snapshots: made before snapshot
 * `allocated_before_snapshot`, freed before `deallocated_before_snapshot` (null: never freed, or
 * for the high-water-mark view, the contribution after the last peak).
 */
export interface TemporalInterval {
  allocated_before_snapshot: number;
  deallocated_before_snapshot: number | null;
  n_allocations: number;
  n_bytes: number;
}

/**
 * One location of a temporal view, with the stack ids {@link LocationRecord} uses (`py_stack` in
 * `capture.python`, `native_stack` in `capture.native`), so reporters resolve both alike.
 */
export interface TemporalLocation {
  py_stack: number;
  native_stack: number;
  /** Engine thread id; 0 when threads are merged (memray's `NO_THREAD_INFO`). */
  thread_id: number;
  /** Allocator record kind (0x01-0x0C); locations are split by allocator in temporal mode. */
  allocator: number;
  /** Sorted by `allocated_before_snapshot`, then `deallocated_before_snapshot` (null last). */
  intervals: TemporalInterval[];
}

/** A temporal view: the memory graph and the locations over it. */
export interface TemporalData {
  /** Every RSS sample (strided down to `max_memory_records`), as {@link memorySnapshots}. */
  snapshots: MemorySnapshot[];
  /** Sorted by (thread, Python stack, native stack, allocator). */
  locations: TemporalLocation[];
  /**
   * {@link temporalHighWaterMark} only: the highest heap within each snapshot interval, one more
   * entry than boundaries (the last: the heap at the last peak after the last boundary).
   */
  hwm_bytes_by_snapshot?: number[];
}

/** Options of the temporal views. */
export interface TemporalOptions {
  /** Locations of different threads with equal stacks are one (thread id 0). */
  merge_threads: boolean;
  /**
   * Keep at most about this many memory snapshots (default 10000): beyond it every n-th is kept
   * (samples 0, n, 2n, ...), and only those samples are snapshot boundaries (memray's stride).
   */
  max_memory_records?: number;
}

/**
 * The memory graph: one entry per RSS sample, the heap being the live tracked bytes after every
 * event before the sample (memray's HighWatermarkFinder: an allocation at an address whose free
 * was never seen stays counted). Aggregated captures: their HEAP_SAMPLE records.
 */
export function memorySnapshots(
  capture: Capture,
  options: { max_memory_records?: number } = {},
): MemorySnapshot[] {
  const start = capture.header.start_time_ms;
  const all: MemorySnapshot[] = [];
  if (capture.header.aggregated) {
    for (const h of capture.heap_samples) {
      all.push({
        time_ms: start + h.time_offset_ms,
        rss_bytes: h.rss_bytes,
        heap_bytes: h.heap_bytes,
      });
    }
  } else {
    const heap = heapAtSamples(capture);
    capture.rss.forEach((s, k) => {
      all.push({ time_ms: start + s.time_offset_ms, rss_bytes: s.rss_bytes, heap_bytes: heap[k] });
    });
  }
  const stride = strideOf(all.length, options.max_memory_records);
  return stride === 0 ? all : all.filter((_, k) => k % stride === 0);
}

/**
 * memray's `get_temporal_allocation_records`: per location, intervals of allocations by the
 * snapshot they were made in and the snapshot they were freed in (null: still live at the end).
 * Allocations freed within the snapshot they were made in are dropped. A partial munmap counts
 * bytes without an allocation; the munmap that removes a mapping's last piece counts it.
 * Throws {@link UsageError} with memray's message on an aggregated capture.
 */
export function temporalAllocations(capture: Capture, options: TemporalOptions): TemporalData {
  if (capture.header.aggregated) throw new UsageError(AGGREGATED_TEMPORAL_MESSAGE);
  const ev = capture.events;
  const ids = new LocationIds(ev, options.merge_threads);
  const stride = strideOf(capture.rss.length, options.max_memory_records);
  /** (allocated_before, deallocated_before or -1, location) -> [count, bytes]. */
  const history = new Map<string, { at: [number, number, number]; n: number; bytes: number }>();
  const add = (gen: number, freed: number, loc: number, count: number, bytes: number) => {
    const key = `${gen}:${freed}:${loc}`;
    let h = history.get(key);
    if (h === undefined) history.set(key, h = { at: [gen, freed, loc], n: 0, bytes: 0 });
    h.n += count;
    h.bytes += bytes;
  };
  const live = new Map<number, number>(); // address -> allocating event
  const generation = new Uint32Array(ev.count);
  const ranges = new MappedRanges<number>();
  let snapshots = 0;
  let samples_seen = 0;
  let r = 0;
  const rss = capture.rss;
  for (let i = 0; i < ev.count; i++) {
    for (; r < rss.length && rss[r].seq < ev.seq[i]; r++) {
      if (stride === 0 || samples_seen % stride === 0) snapshots++;
      samples_seen++; // With a stride, samples 0, n, 2n, ... are boundaries (memray 1.20's).
    }
    const kind = ev.kind[i];
    if (kind === REC_FREE || kind === REC_PYMALLOC_FREE) {
      const j = live.get(ev.addr[i]);
      if (j === undefined) continue; // A free of an unknown address.
      live.delete(ev.addr[i]);
      if (generation[j] !== snapshots) add(generation[j], snapshots, ids.of(j), 1, ev.size[j]);
    } else if (kind === REC_MUNMAP) {
      const removals = ranges.remove(ev.addr[i], ev.size[i]);
      // memray counts the allocation only when no other reference to the mapping is left: no
      // piece of it stays mapped and no other removal of this munmap touches it.
      const refs = new Map<number, number>();
      for (const x of removals) refs.set(x.mapping, (refs.get(x.mapping) ?? 0) + 1);
      for (const x of removals) {
        const j = x.mapping;
        if (generation[j] === snapshots) continue;
        const only = refs.get(j) === 1 && ranges.piecesOf(j) === 0;
        add(generation[j], snapshots, ids.of(j), only ? 1 : 0, x.bytes);
      }
    } else {
      generation[i] = snapshots;
      if (kind === ALLOC_MMAP) ranges.add(ev.addr[i], ev.size[i], i);
      else live.set(ev.addr[i], i); // A missing free: the old allocation is forgotten.
    }
  }
  for (const j of live.values()) add(generation[j], -1, ids.of(j), 1, ev.size[j]);
  const counted = new Set<number>();
  for (const p of ranges.pieces) {
    const first = !counted.has(p.mapping);
    counted.add(p.mapping);
    add(generation[p.mapping], -1, ids.of(p.mapping), first ? 1 : 0, p.end - p.start);
  }
  const rows = [...history.values()].map((h) => ({
    location: h.at[2],
    interval: {
      allocated_before_snapshot: h.at[0],
      deallocated_before_snapshot: h.at[1] === -1 ? null : h.at[1],
      n_allocations: h.n,
      n_bytes: h.bytes,
    },
  }));
  return {
    snapshots: memorySnapshots(capture, options),
    locations: ids.locations(rows),
  };
}

/**
 * memray's `get_temporal_high_water_mark_allocation_records`: per location, its contribution to
 * the highest heap point of each snapshot interval, as runs of equal contributions
 * `[allocated_before_snapshot, deallocated_before_snapshot)`; the last run of a location (ending
 * null) starts after the last snapshot and holds what it leaked. `hwm_bytes_by_snapshot[k]` is
 * the heap at the highest point of interval k. Throws {@link UsageError} on aggregated captures.
 */
export function temporalHighWaterMark(capture: Capture, options: TemporalOptions): TemporalData {
  if (capture.header.aggregated) throw new UsageError(AGGREGATED_TEMPORAL_MESSAGE);
  const ids = new LocationIds(capture.events, options.merge_threads);
  const stride = strideOf(capture.rss.length, options.max_memory_records);
  const { rows, hwm_bytes_by_snapshot } = highWaterMarkHistory(capture, ids, stride);
  return {
    snapshots: memorySnapshots(capture, options),
    locations: ids.locations(rows),
    hwm_bytes_by_snapshot,
  };
}

/** memray's snapshot stride: 0 (keep all) up to `max`, else ceil(count / max). */
function strideOf(count: number, max = DEFAULT_MAX_MEMORY_RECORDS): number {
  if (!Number.isInteger(max) || max < 1) {
    throw new UsageError(`${max} is an invalid positive int value`);
  }
  return count > max ? Math.ceil(count / max) : 0;
}

/** The running heap (memray's HighWatermarkFinder) before each RSS sample. */
function heapAtSamples(capture: Capture): number[] {
  const ev = capture.events;
  const rss = capture.rss;
  const out: number[] = [];
  const sizes = new Map<number, number>();
  const ranges = new MappedRanges<number>();
  let heap = 0;
  let r = 0;
  for (let i = 0; i < ev.count; i++) {
    for (; r < rss.length && rss[r].seq < ev.seq[i]; r++) out.push(heap);
    const kind = ev.kind[i];
    const addr = ev.addr[i];
    if (kind === REC_FREE || kind === REC_PYMALLOC_FREE) {
      const size = sizes.get(addr);
      if (size === undefined) continue;
      sizes.delete(addr);
      heap -= size;
    } else if (kind === REC_MUNMAP) {
      for (const x of ranges.remove(addr, ev.size[i])) heap -= x.bytes;
    } else {
      heap += ev.size[i];
      if (kind === ALLOC_MMAP) ranges.add(addr, ev.size[i], i);
      else sizes.set(addr, ev.size[i]); // A missing free: the old size stays counted.
    }
  }
  for (; r < rss.length; r++) out.push(heap);
  return out;
}
