/**
 * The flame graph's embedded data and the views the page computes from it. Pure TypeScript (no
 * DOM, no Deno), so the report builder, the browser app and the tests share it.
 *
 * A tree is columnar: node i's fields are the i-th entries of the columns, node 0 is the root and
 * every node comes after its parent. Strings (functions, files, source lines, thread labels) are
 * indices into the page's deduplicated `strings`.
 */
import type { PageCommon } from "../../data/common.ts";

/** Node flag bits. */
export const FLAG_INTERESTING = 1;
export const FLAG_IMPORT_SYSTEM = 2;
/** The node stands for folded small nodes; its `lineno` is how many nodes it replaced. */
export const FLAG_OTHER = 4;
/** memray's `<STACK TOO DEEP>` node: the stack was cut at the depth limit here. */
export const FLAG_TOO_DEEP = 8;
/** A native frame (`--native` captures): coloured as native whatever its file's extension. */
export const FLAG_NATIVE = 16;

/** One columnar call tree. */
export interface FlameTree {
  /** Parent node index; -1 for the root. */
  parent: number[];
  function: number[];
  filename: number[];
  lineno: number[];
  /** Bytes of the node and its descendants (0 in temporal mode: ranges compute them). */
  value: number[];
  n_allocations: number[];
  /** Thread label string. */
  thread: number[];
  /** FLAG_* bits. */
  flags: number[];
  /** The frame's source line (Python frames whose file was readable), or -1. */
  source: number[];
  /** Location index -> the node its allocations end at (temporal intervals refer to locations). */
  location_node: number[];
}

/** Temporal mode: per-snapshot lifetimes of each location's allocations (memray's intervals). */
export interface TemporalData {
  /** "high_water_mark": the biggest heap within a range; "leaks": made in it and not freed. */
  variant: "high_water_mark" | "leaks";
  /** Unix milliseconds of each snapshot boundary (one per RSS sample). */
  snapshot_time_ms: number[];
  /** The heap's high-water mark within each snapshot (HWM variant only). */
  hwm_bytes?: number[];
  /**
   * Flat 5-tuples [allocated_before, deallocated_before (-1: never), location, count, bytes],
   * snapshot indices as memray's `Interval`.
   */
  intervals: number[];
}

/** The flame graph page's data. */
export interface FlamegraphPageData extends PageCommon {
  kind: "flamegraph";
  inverted: boolean;
  strings: string[];
  tree: FlameTree;
  /** Inverted graphs only: the tree with stacks cut at their first import-system frame. */
  no_imports_tree?: FlameTree;
  /** Thread label strings, sorted (more than one: a thread filter is offered). */
  threads: number[];
  temporal?: TemporalData;
}

/** A node of a view: a filtered (and possibly re-valued) tree, laid out by the app. */
export interface ViewNode {
  /** Index of the node in its {@link FlameTree}. */
  id: number;
  value: number;
  n_allocations: number;
  depth: number;
  parent: ViewNode | null;
  children: ViewNode[];
}

/** What a view shows. */
export interface ViewOptions {
  hide_irrelevant: boolean;
  hide_import_system: boolean;
  /** Thread label string index to keep, or -1 for every thread. */
  thread: number;
  /** Per-node own bytes and counts (temporal ranges); default: derived from `value`. */
  self?: { bytes: Float64Array; count: Float64Array };
}

/** Children lists of a tree, in node order. */
export function childrenOf(tree: FlameTree): number[][] {
  const out: number[][] = tree.parent.map(() => []);
  for (let i = 1; i < tree.parent.length; i++) out[tree.parent[i]].push(i);
  return out;
}

/** Own bytes and counts of each node: its value minus its children's. */
export function selfValues(tree: FlameTree): { bytes: Float64Array; count: Float64Array } {
  const n = tree.parent.length;
  const bytes = Float64Array.from(tree.value);
  const count = Float64Array.from(tree.n_allocations);
  for (let i = 1; i < n; i++) {
    bytes[tree.parent[i]] -= tree.value[i];
    count[tree.parent[i]] -= tree.n_allocations[i];
  }
  return { bytes, count };
}

/**
 * Builds a view: import-system nodes (with their subtrees) and other threads' nodes are removed
 * with their bytes; irrelevant nodes are removed but their children move up to the nearest shown
 * ancestor and their bytes stay counted there (memray's filters). Empty nodes are dropped.
 */
export function buildView(
  tree: FlameTree,
  options: ViewOptions,
  kids = childrenOf(tree),
): ViewNode {
  const self = options.self ?? selfValues(tree);
  const root: ViewNode = {
    id: 0,
    value: 0,
    n_allocations: 0,
    depth: 0,
    parent: null,
    children: [],
  };
  const visit = (i: number, into: ViewNode): void => {
    const flags = tree.flags[i];
    if (options.hide_import_system && (flags & FLAG_IMPORT_SYSTEM) !== 0) return;
    if (options.thread >= 0 && tree.thread[i] !== options.thread) return;
    const lift = options.hide_irrelevant && (flags & FLAG_INTERESTING) === 0;
    const node: ViewNode = lift ? into : {
      id: i,
      value: 0,
      n_allocations: 0,
      depth: into.depth + 1,
      parent: into,
      children: [],
    };
    node.value += self.bytes[i];
    node.n_allocations += self.count[i];
    for (const c of kids[i]) visit(c, node);
    if (lift) return;
    if (node.value <= 0 && node.n_allocations <= 0) return;
    into.children.push(node);
    into.value += node.value;
    into.n_allocations += node.n_allocations;
  };
  root.value = self.bytes[0];
  root.n_allocations = self.count[0];
  for (const c of kids[0]) visit(c, root);
  return root;
}

/** The view node standing for tree node `id`, or undefined when the view does not show it. */
export function findViewNode(root: ViewNode, id: number): ViewNode | undefined {
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.id === id) return n;
    for (const c of n.children) stack.push(c);
  }
  return undefined;
}

/** A temporal range as snapshot indices, inclusive. */
export interface SnapshotRange {
  first: number;
  last: number;
}

/** memray's mapping of a time range to the snapshots it covers. */
export function snapshotRange(
  times: readonly number[],
  start_ms: number,
  end_ms: number,
): SnapshotRange {
  let first = 0;
  for (let i = 0; i < times.length; i++) {
    if (times[i] >= start_ms) {
      first = i;
      break;
    }
  }
  let last = 0;
  for (let i = times.length - 1; i >= 1; i--) {
    if (times[i - 1] < end_ms) {
      last = i;
      break;
    }
  }
  return { first, last: Math.max(first, last) };
}

/** The snapshot with the highest high-water mark in the range (the first of equal ones). */
export function peakSnapshot(hwm: readonly number[], range: SnapshotRange): number {
  let best = range.first;
  for (let s = range.first; s <= range.last && s < hwm.length; s++) {
    if (hwm[s] > hwm[best]) best = s;
  }
  return best;
}

/**
 * Own bytes and counts of each node for a temporal range. HWM variant: what was live at the
 * range's highest snapshot; leaks variant: allocated within the range and not freed by its end.
 */
export function temporalSelf(
  tree: FlameTree,
  temporal: TemporalData,
  range: SnapshotRange,
): { bytes: Float64Array; count: Float64Array; snapshot: number } {
  const bytes = new Float64Array(tree.parent.length);
  const count = new Float64Array(tree.parent.length);
  const iv = temporal.intervals;
  const at = temporal.variant === "high_water_mark"
    ? peakSnapshot(temporal.hwm_bytes ?? [], range)
    : -1;
  for (let k = 0; k + 4 < iv.length; k += 5) {
    const alloc = iv[k];
    const dealloc = iv[k + 1] < 0 ? Infinity : iv[k + 1];
    const keep = at >= 0
      ? alloc <= at && at < dealloc
      : alloc >= range.first && alloc <= range.last && dealloc > range.last;
    if (!keep) continue;
    const node = tree.location_node[iv[k + 2]];
    count[node] += iv[k + 3];
    bytes[node] += iv[k + 4];
  }
  return { bytes, count, snapshot: at };
}

/** How a frame is coloured: by its file's extension, as memray; native frames always native. */
export function frameKind(filename: string, flags = 0): "python" | "native" | "other" {
  if ((flags & FLAG_NATIVE) !== 0) return "native";
  const dot = filename.lastIndexOf(".");
  const ext = dot >= 0 ? filename.slice(dot + 1) : filename;
  if (ext === "py") return "python";
  if (ext === "c" || ext === "cpp" || ext === "h") return "native";
  return "other";
}

/** True when the node's function, file or source line contains `term` (any case). */
export function matchesSearch(
  data: { strings: string[] },
  tree: FlameTree,
  id: number,
  term: string,
): boolean {
  if (term === "") return false;
  const t = term.toLowerCase();
  const s = data.strings;
  if (s[tree.function[id]].toLowerCase().includes(t)) return true;
  if (s[tree.filename[id]].toLowerCase().includes(t)) return true;
  return tree.source[id] >= 0 && s[tree.source[id]].toLowerCase().includes(t);
}

/** Matches of a search in a view: how many nodes, and their bytes without counting nested ones twice. */
export function searchTotals(
  data: { strings: string[] },
  tree: FlameTree,
  root: ViewNode,
  term: string,
): { nodes: number; bytes: number; matched: Set<number> } {
  const matched = new Set<number>();
  let bytes = 0;
  const visit = (n: ViewNode, inside: boolean): void => {
    const hit = n.parent !== null && matchesSearch(data, tree, n.id, term);
    if (hit) matched.add(n.id);
    if (hit && !inside) bytes += n.value;
    for (const c of n.children) visit(c, inside || hit);
  };
  visit(root, false);
  return { nodes: matched.size, bytes, matched };
}
