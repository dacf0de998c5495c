/**
 * Heap diff of two captures (memray has none): per-location growth between a base and a new
 * capture, at the peak or in what leaked. Two captures intern stacks and code objects under
 * unrelated ids, so locations are matched by their Python stacks as (function, file, line)
 * frames, root first, with launcher and CPython-internal frames removed. Threads are merged, as
 * thread ids of two runs mean nothing to each other.
 */
import type { Capture } from "../capture/reader.ts";
import { classifyStack } from "./frame_filter.ts";
import { selectSnapshot } from "./snapshot.ts";
import { type StackFrames, StackResolver } from "./stack_resolver.ts";
import type { MergedFrame } from "./merged_stacks.ts";

/** A frame of a diffed stack. */
export interface DiffFrame {
  function: string;
  /** The source file; for a native frame without line information, its module's path. */
  filename: string;
  lineno: number;
  /** What the stack resolver says the frame is (native frames come from `--native` captures). */
  kind: "python" | "native";
}

/** A resolved frame as the diff keeps it; a native frame without a file is named by its module. */
export function diffFrame(frame: MergedFrame): DiffFrame {
  const native = frame.kind === "native";
  return {
    function: frame.function,
    filename: native && frame.file === "" ? frame.module ?? "" : frame.file,
    lineno: frame.line,
    kind: frame.kind,
  };
}

/** How a location changed from base to new. */
export type DiffStatus = "added" | "removed" | "grown" | "shrunk" | "unchanged";

/** One location (a whole stack) in either capture. */
export interface DiffLocation {
  status: DiffStatus;
  /** Root first; empty for allocations without a Python stack. */
  stack: DiffFrame[];
  base_bytes: number;
  base_count: number;
  new_bytes: number;
  new_count: number;
  /** new - base. */
  delta_bytes: number;
  delta_count: number;
}

/** One side of the diff. */
export interface DiffSide {
  path: string;
  /** The heap the snapshot is a share of (at the peak, or leaked). */
  heap_bytes: number;
  total_bytes: number;
  total_count: number;
  locations: number;
}

/** Totals over all locations. */
export interface DiffTotals {
  delta_bytes: number;
  delta_count: number;
  added: number;
  removed: number;
  grown: number;
  shrunk: number;
  unchanged: number;
}

/** What to compare. */
export type DiffMode = "high_water_mark" | "leaks";

/** A whole diff. */
export interface HeapDiff {
  mode: DiffMode;
  base: DiffSide;
  new: DiffSide;
  totals: DiffTotals;
  /** Sorted by growth (delta bytes, biggest first), then by new bytes, then by stack. */
  locations: DiffLocation[];
}

interface SideEntry {
  stack: DiffFrame[];
  bytes: number;
  count: number;
}

/** Snapshot records of one capture keyed by their frame stack. */
function sideEntries(capture: Capture, mode: DiffMode, stacks: StackFrames): {
  entries: Map<string, SideEntry>;
  heap_bytes: number;
} {
  const snapshot = selectSnapshot(capture, { mode, merge_threads: true });
  const entries = new Map<string, SideEntry>();
  for (const rec of snapshot.records) {
    const frames = stacks.frames(rec.py_stack, rec.native_stack, rec.thread_id).map(diffFrame);
    const stack = classifyStack(frames).map((c) => c.frame);
    // Records with equal frames but different native stacks (or ids) are one location here.
    const key = JSON.stringify(stack.map((f) => [f.function, f.filename, f.lineno, f.kind]));
    const e = entries.get(key);
    if (e === undefined) entries.set(key, { stack, bytes: rec.size_bytes, count: rec.count });
    else {
      e.bytes += rec.size_bytes;
      e.count += rec.count;
    }
  }
  return { entries, heap_bytes: snapshot.heap_bytes };
}

function statusOf(base: SideEntry | undefined, now: SideEntry | undefined): DiffStatus {
  if (base === undefined) return "added";
  if (now === undefined) return "removed";
  if (now.bytes > base.bytes) return "grown";
  if (now.bytes < base.bytes) return "shrunk";
  return "unchanged";
}

function side(path: string, heap_bytes: number, entries: Map<string, SideEntry>): DiffSide {
  let total_bytes = 0;
  let total_count = 0;
  for (const e of entries.values()) {
    total_bytes += e.bytes;
    total_count += e.count;
  }
  return { path, heap_bytes, total_bytes, total_count, locations: entries.size };
}

/** The stacks of each side of a diff (the report's resolvers). */
export interface DiffStacks {
  base: StackFrames;
  now: StackFrames;
}

/**
 * Diffs two captures. Aggregated captures work too: their LOCATION records carry both the peak
 * and the leaked contribution of each location. `stacks` gives each side's frames (merged
 * native+Python frames for native captures); default: the captures' Python stacks.
 */
export function diffCaptures(
  base: Capture,
  now: Capture,
  mode: DiffMode,
  stacks: DiffStacks = { base: StackResolver.python(base), now: StackResolver.python(now) },
): HeapDiff {
  const b = sideEntries(base, mode, stacks.base);
  const n = sideEntries(now, mode, stacks.now);
  const keys = new Set([...b.entries.keys(), ...n.entries.keys()]);
  const locations: (DiffLocation & { key: string })[] = [];
  const totals: DiffTotals = {
    delta_bytes: 0,
    delta_count: 0,
    added: 0,
    removed: 0,
    grown: 0,
    shrunk: 0,
    unchanged: 0,
  };
  for (const key of keys) {
    const be = b.entries.get(key);
    const ne = n.entries.get(key);
    const status = statusOf(be, ne);
    const loc = {
      key,
      status,
      stack: (ne ?? be)!.stack,
      base_bytes: be?.bytes ?? 0,
      base_count: be?.count ?? 0,
      new_bytes: ne?.bytes ?? 0,
      new_count: ne?.count ?? 0,
      delta_bytes: (ne?.bytes ?? 0) - (be?.bytes ?? 0),
      delta_count: (ne?.count ?? 0) - (be?.count ?? 0),
    };
    totals[status] += 1;
    totals.delta_bytes += loc.delta_bytes;
    totals.delta_count += loc.delta_count;
    locations.push(loc);
  }
  locations.sort((x, y) =>
    y.delta_bytes - x.delta_bytes || y.new_bytes - x.new_bytes ||
    (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
  );
  return {
    mode,
    base: side(base.path, b.heap_bytes, b.entries),
    new: side(now.path, n.heap_bytes, n.entries),
    totals,
    locations: locations.map(({ key: _, ...rest }) => rest),
  };
}
