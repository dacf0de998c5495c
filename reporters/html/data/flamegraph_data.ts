/**
 * The flame graph's tree as memray's `FlameGraphReporter` builds it (reference §2.3): a `<root>`
 * node, one child per (parent, (function, file, line), thread label), bytes and allocation counts
 * summed along each location's stack, CPython-internal frames dropped, `interesting` and
 * `import_system` flags (the latter passed down to callees, except in inverted graphs), stacks
 * cut at memray's depth limit. Written columnar with a string table ({@link FlameTree}).
 * Stacks come from a {@link StackFrames} resolver: for `--native` captures, merged native and
 * Python frames; native nodes carry {@link FLAG_NATIVE} so the page colours them as native even
 * when they have no source file (the module's path stands in for it).
 *
 * Huge trees would hang the browser (memray #484, #987): past {@link FOLD_MIN_NODES} nodes, the
 * children smaller than 1/5000 of the root fold into one "other" node per parent and thread,
 * with a stricter threshold until at most `max_nodes` are left; a note says what was folded.
 */
import type { CaptureInfo } from "../../../lib/capture/event_scan.ts";
import { classifyFrame } from "../../../lib/analysis/frame_filter.ts";
import type { MergedFrame } from "../../../lib/analysis/merged_stacks.ts";
import { type StackFrames, StackResolver } from "../../../lib/analysis/stack_resolver.ts";
import {
  FLAG_IMPORT_SYSTEM,
  FLAG_INTERESTING,
  FLAG_NATIVE,
  FLAG_OTHER,
  FLAG_TOO_DEEP,
  type FlameTree,
} from "../app/flamegraph/model.ts";
import { StringTable } from "./common.ts";

/** memray's MAX_STACKS (recursion limit 1000 // 2.5). */
export const MAX_STACK_DEPTH = 400;
/** Trees up to this many nodes are never folded. */
export const FOLD_MIN_NODES = 2000;
/** Nodes below this share of the root fold first. */
export const FOLD_FRACTION = 1 / 5000;
/** Default cap on the nodes of one tree. */
export const DEFAULT_MAX_NODES = 20_000;

/** A location as the tree needs it (a snapshot's LocationRecord, or a temporal record). */
export interface FlameLocation {
  py_stack: number;
  /** The native stack (0: none), resolved when the stacks merge native frames. */
  native_stack?: number;
  thread_id: number;
  size_bytes: number;
  count: number;
  /** Drop the launcher's root frames (the main thread's stacks). */
  hide_launcher: boolean;
}

/** Options of {@link buildFlameTree}. */
export interface FlameTreeOptions {
  inverted: boolean;
  merge_threads: boolean;
  /** Cut stacks at their first import-system frame (memray's inverted no-imports tree). */
  drop_import_system?: boolean;
  max_nodes?: number;
  /** Lines of a source file, or undefined when it cannot (or may not) be read. */
  sourceLines?: (filename: string) => readonly string[] | undefined;
  /** The capture's stacks (a report's resolver); default: its Python stacks. */
  stacks?: StackFrames;
}

/** A built tree and what folding did to it. */
export interface BuiltTree {
  tree: FlameTree;
  /** Nodes replaced by "other" nodes (0: nothing folded). */
  folded_nodes: number;
  /** Bytes below which nodes were folded. */
  fold_threshold_bytes: number;
}

/** memray's `format_thread_name`; "merged thread" when threads are merged. */
export function threadLabel(capture: CaptureInfo, thread_id: number, merged: boolean): string {
  if (merged) return "merged thread";
  const name = capture.threads.get(thread_id)?.name;
  const hex = `0x${thread_id.toString(16)}`;
  return name ? `${hex} (${name})` : hex;
}

/** A tree with no nodes (every column empty). */
function emptyTree(): FlameTree {
  return {
    parent: [],
    function: [],
    filename: [],
    lineno: [],
    value: [],
    n_allocations: [],
    thread: [],
    flags: [],
    source: [],
    location_node: [],
  };
}

/** A mutable tree under construction (same columns, plus children by key). */
class TreeBuilder {
  readonly t: FlameTree = emptyTree();
  #index = new Map<string, number>();

  add(
    parent: number,
    fn: number,
    file: number,
    line: number,
    thread: number,
    flags: number,
    source: number,
  ): number {
    const t = this.t;
    const key = `${parent}:${fn}:${file}:${line}:${thread}`;
    let i = this.#index.get(key);
    if (i !== undefined) return i;
    i = t.parent.length;
    t.parent.push(parent);
    t.function.push(fn);
    t.filename.push(file);
    t.lineno.push(line);
    t.value.push(0);
    t.n_allocations.push(0);
    t.thread.push(thread);
    t.flags.push(flags);
    t.source.push(source);
    this.#index.set(key, i);
    return i;
  }
}

interface FrameInfo {
  native: boolean;
  fn: number;
  file: number;
  line: number;
  source: number;
  cpython_internal: boolean;
  import_system: boolean;
  interesting: boolean;
}

/** Builds the (unfolded, then folded) tree of `locations`; strings go into `strings`. */
export function buildFlameTree(
  capture: CaptureInfo,
  locations: readonly FlameLocation[],
  strings: StringTable,
  options: FlameTreeOptions,
): BuiltTree {
  const b = new TreeBuilder();
  const merged = options.merge_threads;
  const root = b.add(
    -1,
    strings.intern("<root>"),
    strings.intern("<tracker>"),
    0,
    strings.intern("0x0"),
    FLAG_INTERESTING,
    -1,
  );
  const stacks = options.stacks ?? StackResolver.python(capture);
  // Keyed by what a node shows: frames repeat across stacks as equal values, not one object.
  const frame_cache = new Map<string, FrameInfo>();
  const frameInfo = (frame: MergedFrame): FrameInfo => {
    const key = `${frame.kind}\0${frame.function}\0${frame.file}\0${frame.line}\0${
      frame.module ?? ""
    }`;
    let f = frame_cache.get(key);
    if (f !== undefined) return f;
    const native = frame.kind === "native";
    // A native frame without line information is named by its module.
    const filename = native && frame.file === "" ? frame.module ?? "" : frame.file;
    const c = classifyFrame({ function: frame.function, filename, lineno: frame.line });
    const text = native ? "" : options.sourceLines?.(filename)?.[frame.line - 1]?.trim() ?? "";
    f = {
      native,
      fn: strings.intern(frame.function),
      file: strings.intern(filename),
      line: frame.line,
      source: text === "" ? -1 : strings.intern(text.slice(0, 200)),
      ...c,
    };
    frame_cache.set(key, f);
    return f;
  };
  const too_deep = strings.intern("<STACK TOO DEEP>");
  const dots = strings.intern("...");
  const t = b.t;
  for (const loc of locations) {
    const thread = strings.intern(threadLabel(capture, loc.thread_id, merged));
    // Root first; without import system, cut before the first import-system frame (memray's
    // `_drop_import_system_frames`: the allocation stays, charged to the importing caller).
    // The resolver hides the launcher for the main thread's stacks.
    const as_thread = loc.hide_launcher
      ? capture.main_thread_id
      : loc.thread_id === capture.main_thread_id
      ? -1
      : loc.thread_id;
    const leaf_first = stacks.frames(loc.py_stack, loc.native_stack ?? 0, as_thread);
    let ids: FrameInfo[] = new Array(leaf_first.length);
    for (let i = 0; i < leaf_first.length; i++) {
      ids[leaf_first.length - 1 - i] = frameInfo(leaf_first[i]);
    }
    if (options.drop_import_system) {
      const cut = ids.findIndex((f) => f.import_system);
      if (cut >= 0) ids = ids.slice(0, cut);
    }
    if (options.inverted) ids.reverse();
    let node = root;
    let inside_import = false;
    let skipped = 0;
    t.value[root] += loc.size_bytes;
    t.n_allocations[root] += loc.count;
    for (let index = 0; index < ids.length; index++) {
      const f = ids[index];
      if (f.cpython_internal) {
        skipped++;
        continue;
      }
      const import_system: boolean = f.import_system || (!options.inverted && inside_import);
      inside_import = import_system;
      const deep = index - skipped > MAX_STACK_DEPTH;
      const flags = (f.interesting && !import_system ? FLAG_INTERESTING : 0) |
        (import_system ? FLAG_IMPORT_SYSTEM : 0) | (deep ? FLAG_TOO_DEEP : 0) |
        (f.native && !deep ? FLAG_NATIVE : 0);
      node = deep
        ? b.add(node, too_deep, dots, 0, thread, flags, -1)
        : b.add(node, f.fn, f.file, f.line, thread, flags, f.source);
      t.value[node] += loc.size_bytes;
      t.n_allocations[node] += loc.count;
      if (deep) break;
    }
    t.location_node.push(node);
  }
  return foldTree(t, strings, options.max_nodes ?? DEFAULT_MAX_NODES);
}

/**
 * Folds small children into "other" nodes (see the module doc). The result is in depth-first
 * order; `location_node` follows folded nodes to their "other" node.
 */
export function foldTree(tree: FlameTree, strings: StringTable, max_nodes: number): BuiltTree {
  const n = tree.parent.length;
  if (n <= FOLD_MIN_NODES && n <= max_nodes) {
    return { tree, folded_nodes: 0, fold_threshold_bytes: 0 };
  }
  const kids: number[][] = tree.parent.map(() => []);
  for (let i = 1; i < n; i++) kids[tree.parent[i]].push(i);
  let threshold = Math.max(1, tree.value[0] * FOLD_FRACTION);
  for (let round = 0; round < 64; round++) {
    const result = foldWith(tree, kids, strings, threshold);
    if (result.tree.parent.length <= max_nodes) return result;
    threshold *= 2;
  }
  // 64 doublings exceed any byte count: only the root and "other" nodes can be left.
  return foldWith(tree, kids, strings, Infinity);
}

function foldWith(
  tree: FlameTree,
  kids: number[][],
  strings: StringTable,
  threshold: number,
): BuiltTree {
  const out: FlameTree = emptyTree();
  const remap = new Int32Array(tree.parent.length).fill(-1);
  const push = (from: number, parent: number): number => {
    const i = out.parent.length;
    out.parent.push(parent);
    out.function.push(tree.function[from]);
    out.filename.push(tree.filename[from]);
    out.lineno.push(tree.lineno[from]);
    out.value.push(tree.value[from]);
    out.n_allocations.push(tree.n_allocations[from]);
    out.thread.push(tree.thread[from]);
    out.flags.push(tree.flags[from]);
    out.source.push(tree.source[from]);
    return i;
  };
  const other_fn = strings.intern("<other>");
  const empty = strings.intern("");
  let folded_nodes = 0;
  // Iterative depth-first walk: [old node, new parent].
  const stack: [number, number][] = [[0, -1]];
  while (stack.length > 0) {
    const [old, parent] = stack.pop()!;
    const id = push(old, parent);
    remap[old] = id;
    const others = new Map<number, number>();
    const keep: number[] = [];
    for (const c of kids[old]) {
      if (tree.value[c] >= threshold) {
        keep.push(c);
        continue;
      }
      let o = others.get(tree.thread[c]);
      if (o === undefined) {
        o = out.parent.length;
        others.set(tree.thread[c], o);
        out.parent.push(id);
        out.function.push(other_fn);
        out.filename.push(empty);
        out.lineno.push(0);
        out.value.push(0);
        out.n_allocations.push(0);
        out.thread.push(tree.thread[c]);
        out.flags.push(FLAG_OTHER | FLAG_IMPORT_SYSTEM);
        out.source.push(-1);
      }
      out.value[o] += tree.value[c];
      out.n_allocations[o] += tree.n_allocations[c];
      // Shown unless every folded node is hidden by a filter.
      if ((tree.flags[c] & FLAG_INTERESTING) !== 0) out.flags[o] |= FLAG_INTERESTING;
      if ((tree.flags[c] & FLAG_IMPORT_SYSTEM) === 0) out.flags[o] &= ~FLAG_IMPORT_SYSTEM;
      out.lineno[o] += markSubtree(kids, c, remap, o);
    }
    folded_nodes += [...others.values()].reduce((sum, o) => sum + out.lineno[o], 0);
    for (let k = keep.length - 1; k >= 0; k--) stack.push([keep[k], id]);
  }
  out.location_node = tree.location_node.map((old) => remap[old]);
  return { tree: out, folded_nodes, fold_threshold_bytes: folded_nodes > 0 ? threshold : 0 };
}

/** Maps a folded subtree's nodes to `target`; returns how many nodes it had. */
function markSubtree(kids: number[][], top: number, remap: Int32Array, target: number): number {
  let count = 0;
  const stack = [top];
  while (stack.length > 0) {
    const i = stack.pop()!;
    remap[i] = target;
    count++;
    for (const c of kids[i]) stack.push(c);
  }
  return count;
}

/** The line of the page's notes saying what folding did. */
export function foldNote(built: BuiltTree, format: (bytes: number) => string): string | undefined {
  if (built.folded_nodes === 0) return undefined;
  return `${built.folded_nodes.toLocaleString("en-US")} frames smaller than ` +
    `${format(built.fold_threshold_bytes)} were folded into "<other>" nodes to keep the page fast.`;
}
