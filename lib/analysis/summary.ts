/**
 * Per-function totals at the peak for the `summary` report (memray's TUI aggregation): grouped by
 * (function, file) ignoring lines; "own" counts allocations where the function is the leaf,
 * "total" counts every stack it appears in (once per stack, even when recursive).
 */
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { LocationRecord } from "./locations.ts";
import { type StackFrames, StackResolver } from "./stack_resolver.ts";

/** One row of the summary table. */
export interface FunctionTotals {
  function: string;
  file: string;
  total_bytes: number;
  own_bytes: number;
  /** Allocations where this function appears anywhere in the stack. */
  count: number;
}

/** memray processes records until this share of the heap is covered. */
export const MAX_MEMORY_RATIO = 0.95;

/**
 * Aggregates snapshot records (in first-seen order) into per-function totals. `stacks` gives
 * each record's frames (a report's resolver: merged native+Python frames for native captures);
 * default: the capture's Python stacks.
 */
export function functionTotals(
  capture: CaptureInfo,
  records: LocationRecord[],
  stacks: StackFrames = StackResolver.python(capture),
): FunctionTotals[] {
  let heap = 0;
  for (const r of records) heap += r.size_bytes;
  const threshold = heap * MAX_MEMORY_RATIO;
  const rows = new Map<string, FunctionTotals>();
  const row = (func: string, file: string) => {
    const key = `${func}\0${file}`;
    let r = rows.get(key);
    if (r === undefined) {
      r = { function: func, file, total_bytes: 0, own_bytes: 0, count: 0 };
      rows.set(key, r);
    }
    return r;
  };
  let covered = 0;
  for (const rec of records) {
    if (covered >= threshold && covered > 0) break;
    covered += rec.size_bytes;
    const frames = stacks.frames(rec.py_stack, rec.native_stack, rec.thread_id);
    if (frames.length === 0) {
      const r = row("<unknown>", "<unknown>");
      r.total_bytes += rec.size_bytes;
      r.own_bytes += rec.size_bytes;
      r.count += rec.count;
      continue;
    }
    const seen = new Set<FunctionTotals>();
    frames.forEach((f, depth) => {
      const r = row(f.function, f.file);
      if (depth === 0) r.own_bytes += rec.size_bytes;
      if (seen.has(r)) return;
      seen.add(r);
      r.total_bytes += rec.size_bytes;
      r.count += rec.count;
    });
  }
  return [...rows.values()];
}
