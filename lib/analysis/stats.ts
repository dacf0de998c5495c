/** Whole-run statistics for the `stats` report (memray's `compute_statistics`). */
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { EventRows } from "../capture/events.ts";
import type { Capture } from "../capture/reader.ts";
import * as R from "../capture/records.ts";
import { ALLOCATOR_NAMES } from "../capture/records.ts";
import { LiveTable } from "./live_table.ts";
import { captureModuleResolver } from "./stats_modules.ts";
import type { StackFrames } from "./stack_resolver.ts";

/** A leaf location: function, file, line. */
export type Location = [func: string, file: string, line: number];

/** Statistics of every allocation of a capture (not only those live at the peak). */
export interface Statistics {
  total_num_allocations: number;
  total_memory_allocated: number;
  peak_memory: number;
  /** requested size -> number of allocations. */
  allocation_count_by_size: Map<number, number>;
  /** allocator NAME -> count. */
  allocation_count_by_allocator: Map<string, number>;
  top_locations_by_size: [Location, number][];
  top_locations_by_count: [Location, number][];
  top_modules_by_size: { module: string; num_allocations: number; total_bytes: number }[];
  top_modules_by_count: { module: string; num_allocations: number; total_bytes: number }[];
  /** Records in the file including deallocations (memray's metadata `total_allocations`). */
  total_records: number;
  /** Always 0, as memray's (its writer never counts frames). */
  total_frames: number;
}

export {
  captureModuleResolver,
  capturePathInfo,
  ModuleResolver,
  type ModuleType,
  type PathInfo,
} from "./stats_modules.ts";

const UNKNOWN: Location = ["<unknown>", "<unknown>", 0];

/** Event columns as {@link StatsAccumulator.add} reads them (a scan batch or all events). */
export interface EventRun extends EventRows {
  count: number;
}

const SMALL_SIZES = 1 << 16;

/**
 * The totals {@link finishStatistics} reads: a {@link StatsAccumulator}'s, or the native fold's
 * (lib/analysis/streaming.ts).
 */
export interface StatsTotals {
  /** Allocations and their bytes. */
  readonly total: number;
  readonly bytes: number;
  readonly peak_bytes: number;
  /** Events folded, deallocations included. */
  readonly events: number;
  sizeCounts(): Map<number, number>;
  allocatorCounts(): Map<string, number>;
  /**
   * [Python stack node, native stack node (0: none), bytes, count] per pair, in order of the
   * pair's first allocation.
   */
  stacks(): StackTotal[];
}

/** The allocations of one (Python stack node, native stack node) pair. */
export type StackTotal = [py_stack: number, native_stack: number, bytes: number, count: number];

/**
 * Folds events, in seq order, into the totals {@link finishStatistics} needs: state bounded by the
 * distinct sizes, stacks and live allocations, whatever the number of events.
 */
export class StatsAccumulator implements StatsTotals {
  total = 0;
  bytes = 0;
  #small_sizes = new Float64Array(SMALL_SIZES);
  #big_sizes = new Map<number, number>();
  /** Sizes in order of first allocation (memray's dict order). */
  #size_order: number[] = [];
  #kind_counts = new Float64Array(256);
  #kind_order: number[] = [];
  // Per (Python stack, native stack) pair, in order of first allocation: the nodes, bytes and
  // count. A pair without a native stack (every pair of a capture without native traces) is
  // found by its Python node in #py_slot (1 + its index; 0: none) without hashing.
  #pair_py: number[] = [];
  #pair_native: number[] = [];
  #pair_size: number[] = [];
  #pair_count: number[] = [];
  #py_slot: Int32Array<ArrayBuffer> = new Int32Array(1024);
  /** native node -> Python node -> index, for pairs with a native stack. */
  #native_slots = new Map<number, Map<number, number>>();
  #live = new LiveTable();
  #events = 0;
  peak_bytes = 0;
  peak_index = -1;

  /** Adds `run`'s events (the next ones in seq order). */
  add(run: EventRun): void {
    const { kind, addr, size, py_stack, native_stack } = run;
    const live = this.#live;
    const small = this.#small_sizes;
    const kinds = this.#kind_counts;
    const pair_size = this.#pair_size;
    const pair_count = this.#pair_count;
    let total = this.total;
    let bytes = this.bytes;
    let peak = this.peak_bytes;
    let peak_index = this.peak_index;
    const first = this.#events;
    for (let i = 0; i < run.count; i++) {
      const k = kind[i];
      const s = size[i];
      live.apply(k, addr[i], s, 0, 0, 0, 0);
      if (live.heap_bytes >= peak) {
        peak = live.heap_bytes;
        peak_index = first + i;
      }
      if (k < R.REC_ALLOC_FIRST || k > R.REC_ALLOC_LAST) continue;
      total++;
      bytes += s;
      if (s < SMALL_SIZES) {
        if (small[s]++ === 0) this.#size_order.push(s);
      } else {
        const before = this.#big_sizes.get(s);
        if (before === undefined) this.#size_order.push(s);
        this.#big_sizes.set(s, (before ?? 0) + 1);
      }
      if (kinds[k]++ === 0) this.#kind_order.push(k);
      const pair = this.#pairIndex(py_stack[i], native_stack[i]);
      pair_size[pair] += s;
      pair_count[pair]++;
    }
    this.total = total;
    this.bytes = bytes;
    this.peak_bytes = peak;
    this.peak_index = peak_index;
    this.#events = first + run.count;
  }

  /** The index of the (py, native) pair's totals, appended on its first allocation. */
  #pairIndex(py: number, native: number): number {
    if (native === 0) {
      if (py >= this.#py_slot.length) this.#py_slot = grown(this.#py_slot, py);
      const slot = this.#py_slot[py];
      if (slot !== 0) return slot - 1;
      this.#py_slot[py] = this.#pair_py.length + 1;
      return this.#append(py, 0);
    }
    let by_py = this.#native_slots.get(native);
    if (by_py === undefined) this.#native_slots.set(native, by_py = new Map());
    const index = by_py.get(py);
    if (index !== undefined) return index;
    by_py.set(py, this.#pair_py.length);
    return this.#append(py, native);
  }

  #append(py: number, native: number): number {
    this.#pair_py.push(py);
    this.#pair_native.push(native);
    this.#pair_size.push(0);
    return this.#pair_count.push(0) - 1;
  }

  /** Events added so far. */
  get events(): number {
    return this.#events;
  }

  /** requested size -> count, in order of first allocation. */
  sizeCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.#size_order) {
      out.set(s, s < SMALL_SIZES ? this.#small_sizes[s] : this.#big_sizes.get(s)!);
    }
    return out;
  }

  /** allocator NAME -> count, in order of first allocation. */
  allocatorCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const k of this.#kind_order) out.set(ALLOCATOR_NAMES[k], this.#kind_counts[k]);
    return out;
  }

  /** [Python node, native node, bytes, count] per pair, in order of first allocation. */
  stacks(): StackTotal[] {
    return this.#pair_py.map((py, i) => [
      py,
      this.#pair_native[i],
      this.#pair_size[i],
      this.#pair_count[i],
    ]);
  }
}

function grown(a: Int32Array, index: number): Int32Array<ArrayBuffer> {
  let cap = a.length * 2;
  while (cap <= index) cap *= 2;
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/**
 * Computes {@link Statistics} of a read capture; `num_largest` bounds the top lists. `stacks`:
 * see {@link finishStatistics}.
 */
export function computeStatistics(
  capture: Capture,
  num_largest: number,
  stacks?: StackFrames,
): Statistics {
  const acc = new StatsAccumulator();
  acc.add(capture.events);
  return finishStatistics(capture, acc, num_largest, stacks);
}

/** No thread is this one: a stack resolved for it keeps its launcher frames, as memray's stats. */
const NO_THREAD = -1;

/**
 * Resolves an accumulator's stacks to locations and modules (once per pair). With `stacks` and a
 * capture with native traces, a location is the leaf of the merged native+Python stack (the
 * extension's `baz` rather than the Python line that called into it); otherwise, and always for
 * a capture without native traces, the leaf Python frame as memray's.
 */
export function finishStatistics(
  capture: CaptureInfo,
  acc: StatsTotals,
  num_largest: number,
  stacks?: StackFrames,
): Statistics {
  const loc_size = new Map<string, [Location, number, number]>();
  const mod = new Map<string, { module: string; num_allocations: number; total_bytes: number }>();
  const resolver = captureModuleResolver(capture);
  const merged = capture.header.native_traces ? stacks : undefined;
  // memray keys by stack alone (compute_statistics' stats_by_stack), across threads.
  for (const [node, native, size, count] of acc.stacks()) {
    // The whole stack, launcher included: memray's Py_GetStackFrame does not hide its own frames.
    const frames = capture.python.frames(node, false);
    // memray 1.20's stats names the Python leaf even for native captures; the merged leaf is
    // where the memory was asked for. NO_THREAD keeps the launcher, as the Python stack above.
    const leaf = merged?.frames(node, native, NO_THREAD)[0];
    const python_leaf = frames[0];
    const loc: Location = leaf
      ? [leaf.function, leaf.file, leaf.line]
      : merged === undefined && python_leaf
      ? [python_leaf.function, python_leaf.filename, python_leaf.lineno]
      : UNKNOWN;
    const key = loc.join("\0");
    const entry = loc_size.get(key) ?? [loc, 0, 0];
    entry[1] += size;
    entry[2] += count;
    loc_size.set(key, entry);
    // Modules from the Python frames alone, native captures too, as memray's
    // get_module_for_stack (a native frame's file names no Python module).
    const module = resolver.moduleForStack(frames.map((f) => f.filename));
    const me = mod.get(module) ?? { module, num_allocations: 0, total_bytes: 0 };
    me.num_allocations += count;
    me.total_bytes += size;
    mod.set(module, me);
  }
  const locs = [...loc_size.values()];
  const mods = [...mod.values()];
  return {
    total_num_allocations: acc.total,
    total_memory_allocated: acc.bytes,
    peak_memory: acc.peak_bytes,
    allocation_count_by_size: acc.sizeCounts(),
    allocation_count_by_allocator: acc.allocatorCounts(),
    top_locations_by_size: [...locs].sort((a, b) => b[1] - a[1]).slice(0, num_largest)
      .map(([l, s]) => [l, s]),
    top_locations_by_count: [...locs].sort((a, b) => b[2] - a[2]).slice(0, num_largest)
      .map(([l, , c]) => [l, c]),
    top_modules_by_size: [...mods].sort((a, b) => b.total_bytes - a.total_bytes).slice(
      0,
      num_largest,
    ),
    top_modules_by_count: [...mods].sort((a, b) => b.num_allocations - a.num_allocations)
      .slice(0, num_largest),
    total_records: acc.events,
    // memray's header field `n_frames` is never incremented: always 0.
    total_frames: 0,
  };
}
