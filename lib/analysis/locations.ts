/**
 * Snapshot records grouped by location, as memray's SnapshotAllocationAggregator: one record per
 * (Python stack, native stack, thread or 0 when threads are merged), sizes and counts summed,
 * ordered by the first allocation seen.
 */
import type { Capture } from "../capture/reader.ts";

/** One aggregated location of a snapshot. */
export interface LocationRecord {
  py_stack: number;
  native_stack: number;
  /** Engine thread id; with merged threads, the thread of the first allocation seen. */
  thread_id: number;
  allocator: number;
  size_bytes: number;
  count: number;
}

/** Columns of allocations to group: stacks, thread and allocator kind, read at a row. */
export interface AllocationColumns {
  py_stack: ArrayLike<number>;
  native_stack: ArrayLike<number>;
  thread_id: ArrayLike<number>;
  kind: ArrayLike<number>;
}

/** Groups live allocations (event indices with live bytes) by location. */
export function groupByLocation(
  capture: Capture,
  live: { index: ArrayLike<number>; bytes: ArrayLike<number> },
  options: { merge_threads: boolean },
): LocationRecord[] {
  const ev = capture.events;
  const columns = {
    py_stack: ev.py_stack,
    native_stack: ev.native_stack,
    thread_id: ev.thread,
    kind: ev.kind,
  };
  const rows = { count: live.index.length, index: live.index, bytes: live.bytes };
  return groupColumns(columns, rows, options.merge_threads);
}

/**
 * Groups allocations by location: the k-th of the `count` rows (`bytes[k]` live bytes) is row
 * `index[k]` of `columns`, or row k without `index`.
 */
export function groupColumns(
  columns: AllocationColumns,
  rows: { count: number; index?: ArrayLike<number>; bytes: ArrayLike<number> },
  merge_threads: boolean,
): LocationRecord[] {
  const groups = new Map<string, LocationRecord>();
  const out: LocationRecord[] = [];
  for (let k = 0; k < rows.count; k++) {
    const i = rows.index === undefined ? k : rows.index[k];
    const tid = merge_threads ? 0 : columns.thread_id[i];
    const key = `${columns.py_stack[i]}:${columns.native_stack[i]}:${tid}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        py_stack: columns.py_stack[i],
        native_stack: columns.native_stack[i],
        thread_id: columns.thread_id[i],
        allocator: columns.kind[i],
        size_bytes: 0,
        count: 0,
      };
      groups.set(key, g);
      out.push(g);
    }
    g.size_bytes += rows.bytes[k];
    g.count += 1;
  }
  return out;
}
