/**
 * Record selection (reference §2.1): the allocations a report shows, grouped by location — live at
 * the high-water mark, leaked (live at the end), or temporary. Full captures are replayed;
 * aggregated captures are read from their LOCATION records, so every report gets both for free.
 */
import { UsageError } from "../capture/errors.ts";
import type { Capture } from "../capture/reader.ts";
import { highWaterMark, leaks, liveAt } from "./replay.ts";
import { groupByLocation, LocationRecord } from "./locations.ts";
import { temporaryAllocations } from "./temporary.ts";

/** memray's refusal of temporary-allocation modes on aggregated captures. */
export const AGGREGATED_TEMPORARY_MESSAGE =
  "Can't find temporary allocations using a pre-aggregated capture file.";

/** Which allocations a snapshot holds. */
export type SnapshotMode = "high_water_mark" | "leaks" | "temporary";

/** Options of {@link selectSnapshot}. */
export interface SnapshotOptions {
  mode: SnapshotMode;
  /** Group equal stacks of different threads together (location key uses thread 0). */
  merge_threads: boolean;
  /** Temporary mode: freed within this many later allocations of the same thread (default 1). */
  temporary_threshold?: number;
}

/** Location records of a snapshot and the heap they are a share of. */
export interface Snapshot {
  records: LocationRecord[];
  /** The heap at the peak, at the end, or (temporary) the bytes of all records. */
  heap_bytes: number;
}

/**
 * Selects and groups allocations by location. Throws {@link UsageError} with memray's message for
 * temporary mode on an aggregated capture.
 */
export function selectSnapshot(capture: Capture, options: SnapshotOptions): Snapshot {
  if (capture.header.aggregated) {
    if (options.mode === "temporary") throw new UsageError(AGGREGATED_TEMPORARY_MESSAGE);
    return fromLocations(capture, options.mode === "high_water_mark", options.merge_threads);
  }
  const group = { merge_threads: options.merge_threads };
  if (options.mode === "high_water_mark") {
    const hwm = highWaterMark(capture.events);
    const records = groupByLocation(capture, liveAt(capture.events, hwm.peak_index), group);
    return { records, heap_bytes: hwm.peak_bytes };
  }
  if (options.mode === "leaks") {
    const live = leaks(capture.events);
    let heap_bytes = 0;
    for (const b of live.bytes) heap_bytes += b;
    return { records: groupByLocation(capture, live, group), heap_bytes };
  }
  const found = temporaryAllocations(capture.events, options.temporary_threshold ?? 1);
  const index = Uint32Array.from(found);
  const bytes = Float64Array.from(found, (i) => capture.events.size[i]);
  let heap_bytes = 0;
  for (const b of bytes) heap_bytes += b;
  return { records: groupByLocation(capture, { index, bytes }, group), heap_bytes };
}

/**
 * Regroups LOCATION records (memray's `_reaggregate_allocations`) with the same key as
 * {@link groupByLocation}: (Python stack, native stack, thread or 0 when merged), in file order.
 */
function fromLocations(capture: Capture, peak: boolean, merge_threads: boolean): Snapshot {
  const groups = new Map<string, LocationRecord>();
  const records: LocationRecord[] = [];
  let heap_bytes = 0;
  for (const l of capture.locations) {
    const count = peak ? l.peak_count : l.leaked_count;
    const bytes = peak ? l.peak_bytes : l.leaked_bytes;
    if (count === 0 && bytes === 0) continue;
    heap_bytes += bytes;
    const key = `${l.py_stack}:${l.native_stack}:${merge_threads ? 0 : l.thread_id}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        py_stack: l.py_stack,
        native_stack: l.native_stack,
        thread_id: l.thread_id,
        allocator: l.allocator,
        size_bytes: 0,
        count: 0,
      };
      groups.set(key, g);
      records.push(g);
    }
    g.size_bytes += bytes;
    g.count += count;
  }
  return { records, heap_bytes };
}
