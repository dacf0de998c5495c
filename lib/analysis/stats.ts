/** Whole-run statistics for the `stats` report (memray's `compute_statistics`). */
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { EventRows } from "../capture/events.ts";
import type { Capture } from "../capture/reader.ts";
import * as R from "../capture/records.ts";
import { ALLOCATOR_NAMES } from "../capture/records.ts";
import { LiveTable } from "./live_table.ts";

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
  /** [Python stack node, bytes, count], in order of first allocation. */
  nodes(): [number, number, number][];
}

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
  // Per Python stack node: bytes and count; nodes in order of first allocation.
  #node_size: Float64Array<ArrayBuffer> = new Float64Array(1024);
  #node_count: Float64Array<ArrayBuffer> = new Float64Array(1024);
  #node_order: number[] = [];
  #live = new LiveTable();
  #events = 0;
  peak_bytes = 0;
  peak_index = -1;

  /** Adds `run`'s events (the next ones in seq order). */
  add(run: EventRun): void {
    const { kind, addr, size, py_stack } = run;
    const live = this.#live;
    const small = this.#small_sizes;
    const kinds = this.#kind_counts;
    let node_size = this.#node_size;
    let node_count = this.#node_count;
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
      const node = py_stack[i];
      if (node >= node_size.length) {
        node_size = this.#node_size = grown(node_size, node);
        node_count = this.#node_count = grown(node_count, node);
      }
      node_size[node] += s;
      if (node_count[node]++ === 0) this.#node_order.push(node);
    }
    this.total = total;
    this.bytes = bytes;
    this.peak_bytes = peak;
    this.peak_index = peak_index;
    this.#events = first + run.count;
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

  /** [node, bytes, count] per Python stack node, in order of first allocation. */
  nodes(): [number, number, number][] {
    return this.#node_order.map((n) => [n, this.#node_size[n], this.#node_count[n]]);
  }
}

function grown(a: Float64Array, index: number): Float64Array<ArrayBuffer> {
  let cap = a.length * 2;
  while (cap <= index) cap *= 2;
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

/** Computes {@link Statistics} of a read capture; `num_largest` bounds the top lists. */
export function computeStatistics(capture: Capture, num_largest: number): Statistics {
  const acc = new StatsAccumulator();
  acc.add(capture.events);
  return finishStatistics(capture, acc, num_largest);
}

/** Resolves an accumulator's stack nodes to locations and modules (once per node). */
export function finishStatistics(
  capture: CaptureInfo,
  acc: StatsTotals,
  num_largest: number,
): Statistics {
  const loc_size = new Map<string, [Location, number, number]>();
  const mod = new Map<string, { module: string; num_allocations: number; total_bytes: number }>();
  const resolver = captureModuleResolver(capture);
  // memray keys by stack node alone (compute_statistics' stats_by_stack), across threads.
  for (const [node, size, count] of acc.nodes()) {
    // The whole stack, launcher included: memray's Py_GetStackFrame does not hide its own frames.
    const frames = capture.python.frames(node, false);
    const leaf = frames[0];
    const loc: Location = leaf ? [leaf.function, leaf.filename, leaf.lineno] : UNKNOWN;
    const key = loc.join("\0");
    const entry = loc_size.get(key) ?? [loc, 0, 0];
    entry[1] += size;
    entry[2] += count;
    loc_size.set(key, entry);
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

/** memray's module types (module_tools.py): only "stdlib" frames are walked past. */
export type ModuleType = "stdlib" | "site-packages" | "project" | "unknown";

/** A path's parts as pathlib's `PurePosixPath` sees them: "//", "." and a trailing "/" vanish. */
function pathParts(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return path.startsWith("/") ? ["/", ...parts] : parts;
}

/** `Path.relative_to`: the rest of `file` under `base`, or undefined when it is not under it. */
function relativeTo(file: string[], base: string[]): string[] | undefined {
  if (base.length > file.length) return undefined;
  for (let i = 0; i < base.length; i++) if (file[i] !== base[i]) return undefined;
  return file.slice(base.length);
}

/** memray's `_path_to_module`: `a/b/__init__.py` -> "a.b", `a/b.py` -> "a.b", `x.so` -> "x.so". */
function pathToModule(rel: string[]): string {
  let parts = rel;
  const name = parts.length ? parts[parts.length - 1] : "";
  if (name === "__init__.py") {
    parts = parts.slice(0, -1);
  } else {
    // pathlib's suffix: the last "." of the name, unless the name starts with it or ends with it.
    const dot = name.lastIndexOf(".");
    if (dot > 0 && dot < name.length - 1 && name.slice(dot) === ".py") {
      parts = [...parts.slice(0, -1), name.slice(0, dot)];
    }
  }
  return parts.join(".");
}

/** The search paths a capture recorded (its header or metadata). */
export interface PathInfo {
  stdlib?: string;
  site_packages: string[];
  sys_path: string[];
}

/** The capture's recorded stdlib dir, site-packages dirs and sys.path (without empty entries). */
export function capturePathInfo(capture: CaptureInfo): PathInfo {
  const md = capture.header.metadata;
  const strings = (v: unknown) =>
    (Array.isArray(v) ? v : []).filter((s): s is string => typeof s === "string" && s !== "");
  return {
    stdlib: typeof md.libdest === "string" && md.libdest !== "" ? md.libdest : undefined,
    site_packages: strings(md.site_packages),
    sys_path: strings(md.sys_path),
  };
}

/**
 * memray's `ModuleResolver` (reporters/module_tools.py): names the module of a file from the
 * capture's recorded paths (site-packages first, then the stdlib dir, then sys.path in order; a
 * `<frozen x>` file is stdlib module x; any other file is named after its own stem), and the
 * module of a stack after its nearest non-stdlib frame.
 */
export class ModuleResolver {
  readonly #stdlib: string[] | undefined;
  readonly #site: string[][];
  readonly #path: string[][];
  readonly #cache = new Map<string, [string, ModuleType]>();

  constructor(info: PathInfo, readonly isLauncherFile: (file: string) => boolean = () => false) {
    this.#stdlib = info.stdlib === undefined ? undefined : pathParts(info.stdlib);
    this.#site = info.site_packages.map(pathParts);
    this.#path = info.sys_path.map(pathParts);
  }

  /** [module name, module type] of `filename`, as memray's `extract_module_name_and_type`. */
  moduleOf(filename: string): [string, ModuleType] {
    let hit = this.#cache.get(filename);
    if (hit === undefined) {
      hit = this.#resolve(filename);
      this.#cache.set(filename, hit);
    }
    return hit;
  }

  #resolve(filename: string): [string, ModuleType] {
    if (filename === "") return ["unknown", "unknown"];
    if (filename.startsWith("<frozen ")) return [filename.slice("<frozen ".length, -1), "stdlib"];
    const file = pathParts(filename);
    for (const site of this.#site) {
      const rel = relativeTo(file, site);
      if (rel !== undefined) return [pathToModule(rel), "site-packages"];
    }
    if (this.#stdlib !== undefined) {
      const rel = relativeTo(file, this.#stdlib);
      if (rel !== undefined) return [pathToModule(rel), "stdlib"];
    }
    for (const entry of this.#path) {
      const rel = relativeTo(file, entry);
      if (rel !== undefined) return [pathToModule(rel), "project"];
    }
    // Path(filename).name: "" for "/" and for names pathlib reduces to nothing.
    return [
      pathToModule(file.length && file[file.length - 1] !== "/" ? [file[file.length - 1]] : []),
      "unknown",
    ];
  }

  /**
   * memray's `get_module_for_stack`: walks `files` leaf to root and returns the top-level name of
   * the first non-stdlib frame; "<root>" once the walk reaches the profiler's own frames (memray's
   * package, or our launcher: `isLauncherFile`), when every frame is stdlib, or for no frames.
   */
  moduleForStack(files: Iterable<string>): string {
    for (const file of files) {
      if (this.isLauncherFile(file)) return "<root>";
      const [name, type] = this.moduleOf(file);
      if (type === "stdlib") continue;
      const top = name.split(".")[0];
      return top === "memray" ? "<root>" : top;
    }
    return "<root>";
  }
}

/**
 * The {@link ModuleResolver} of a capture. For our own captures the launcher (the bootstrap file,
 * and the `--follow-fork` start hook in `follow/` beside it) ends the walk with "<root>", as
 * memray's own package does for memray's captures; runpy is stdlib and is walked past in both.
 */
export function captureModuleResolver(capture: CaptureInfo): ModuleResolver {
  const bootstrap = capture.header.metadata.bootstrap_file;
  if (typeof bootstrap !== "string" || bootstrap === "") {
    return new ModuleResolver(capturePathInfo(capture));
  }
  const follow_dir = `${bootstrap.slice(0, bootstrap.lastIndexOf("/") + 1)}follow/`;
  return new ModuleResolver(
    capturePathInfo(capture),
    (file) => file === bootstrap || file.startsWith(follow_dir),
  );
}
