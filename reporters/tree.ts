/**
 * `tree`: the peak (or temporary allocations) as a printed call tree, as memray's tree TUI builds
 * it (reference §2.5): the biggest `-b` locations build the tree, the rest are summed into one
 * "below the configured threshold" line; sizes with percentages of the root; biggest first;
 * CPython-internal frames dropped, uninteresting (runpy, import system) frames hidden.
 */
import { UsageError } from "../lib/capture/errors.ts";
import { readCapture } from "../lib/capture/reader.ts";
import type { Capture } from "../lib/capture/reader.ts";
import { classifyStack } from "../lib/analysis/frame_filter.ts";
import type { LocationRecord } from "../lib/analysis/locations.ts";
import { selectSnapshot } from "../lib/analysis/snapshot.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import { type StackFrames, StackResolver } from "../lib/analysis/stack_resolver.ts";
import { sizeFmt, stdoutSink, TextSink } from "./format.ts";
import { recordStack } from "./transform/stacks.ts";

/** memray's MAX_STACKS (recursion limit 1000 // 2.5): deeper frames are not added. */
export const MAX_TREE_DEPTH = 400;

/** Options of {@link runTree}. */
export interface TreeOptions {
  capturePath: string;
  /** How many of the biggest locations build the tree (default 200, must be > 0). */
  biggestAllocs?: number;
  /** Report temporary allocations with this threshold instead of the peak (-1 or unset: off). */
  temporaryAllocationThreshold?: number;
  /** Show runpy and import-system frames (memray's `u` key; default hidden). */
  showUninteresting?: boolean;
  /** Hide import-system frames and everything below them (memray's `i` key; default shown). */
  hideImportSystem?: boolean;
  /** ANSI colours (default: when stdout is a terminal). */
  color?: boolean;
  /** The report's stacks (the CLI's `--debug-dir`, `--no-debuginfod`); default: its own. */
  stacks?: ReportStacks;
  stdout?: TextSink;
}

/** One node of the call tree. */
export interface TreeNode {
  function: string;
  filename: string;
  lineno: number;
  size_bytes: number;
  count: number;
  interesting: boolean;
  import_system: boolean;
  /** Children by location, in first-added order; rendering sorts them. */
  children: Map<string, TreeNode>;
}

/** The locations left out of the tree. */
export interface ElidedLocations {
  cutoff: number;
  locations: number;
  count: number;
  size_bytes: number;
}

/** A built tree: the root holds every record's bytes, shown or elided. */
export interface CallTree {
  root: TreeNode;
  elided: ElidedLocations;
}

function newNode(fn: string, file: string, line: number, interesting = true, imp = false) {
  return {
    function: fn,
    filename: file,
    lineno: line,
    size_bytes: 0,
    count: 0,
    interesting,
    import_system: imp,
    children: new Map(),
  } satisfies TreeNode;
}

/**
 * Builds the tree from snapshot records: sorted by size (stable, so ties keep first-seen order),
 * the first `biggest` add their stacks root first, the rest only count at the root. `stacks`
 * gives each record's frames (merged native+Python frames for native captures); default: the
 * capture's Python stacks.
 */
export function buildCallTree(
  capture: Capture,
  records: readonly LocationRecord[],
  biggest: number,
  stacks: StackFrames = StackResolver.python(capture),
): CallTree {
  const root = newNode("<ROOT>", "", 0);
  const sorted = [...records].sort((a, b) => b.size_bytes - a.size_bytes);
  const elided: ElidedLocations = { cutoff: biggest, locations: 0, count: 0, size_bytes: 0 };
  sorted.forEach((rec, i) => {
    root.size_bytes += rec.size_bytes;
    root.count += rec.count;
    if (i >= biggest) {
      elided.locations += 1;
      elided.count += rec.count;
      elided.size_bytes += rec.size_bytes;
      return;
    }
    const leaf_first = recordStack(stacks, rec);
    let stack = classifyStack(leaf_first);
    // Bytes without a Python stack would vanish below the root; memray drops them silently.
    if (stack.length === 0) {
      stack = [{
        frame: { function: "<unknown>", filename: "", lineno: 0 },
        cpython_internal: false,
        import_system: false,
        interesting: true,
      }];
    }
    let node = root;
    for (const c of stack.slice(0, MAX_TREE_DEPTH)) {
      const key = `${c.frame.function}\0${c.frame.filename}\0${c.frame.lineno}`;
      let child = node.children.get(key);
      if (child === undefined) {
        const f = c.frame;
        child = newNode(f.function, f.filename, f.lineno, c.interesting, c.import_system);
        node.children.set(key, child);
      }
      child.size_bytes += rec.size_bytes;
      child.count += rec.count;
      node = child;
    }
  });
  return { root, elided };
}

/** Options of {@link renderCallTree}. */
export interface RenderTreeOptions {
  color: boolean;
  showUninteresting?: boolean;
  hideImportSystem?: boolean;
  /** Replace the middle of long single-child caller chains by one line (default true). */
  collapseChains?: boolean;
  /** The profiled program's `sys.path`, to show `.py` files as module names. */
  sysPath?: readonly string[];
}

/**
 * memray's `_filename_to_module_name` over the capture's own `sys.path`, preferring the longest
 * entry (memray takes the first, so site-packages modules read "site-packages.numpy.core").
 */
export function moduleName(file: string, sys_path: readonly string[]): string {
  if (!file.endsWith(".py")) return file;
  let best = "";
  for (const p of sys_path) {
    const dir = p.endsWith("/") ? p : p + "/";
    if (p !== "" && p.startsWith("/") && file.startsWith(dir) && dir.length > best.length) {
      best = dir;
    }
  }
  if (best === "") return file;
  return file.slice(best.length, -3).replaceAll("/", ".").replace(/\.__init__$/, "");
}

const GRADIENT: [number, [number, number, number]][] = [
  [0, [97, 193, 44]],
  [0.4, [236, 152, 16]],
  [0.6, [255, 140, 0]], // darkorange
  [1, [205, 92, 92]], // indianred
];

/** memray's size colour: green, orange, dark orange, indian red by whole percent. */
export function percentColor(percent: number): string {
  const t = Math.min(Math.max(Math.trunc(percent), 0), 100) / 100;
  let i = 1;
  while (i < GRADIENT.length - 1 && t > GRADIENT[i][0]) i++;
  const [t0, c0] = GRADIENT[i - 1];
  const [t1, c1] = GRADIENT[i];
  const k = (t - t0) / (t1 - t0);
  const rgb = c0.map((v, j) => Math.round(v + (c1[j] - v) * k));
  return `\x1b[38;2;${rgb[0]};${rgb[1]};${rgb[2]}m`;
}

interface Line {
  text: string;
  children: Line[];
}

/** Renders the tree as text, one line per node, with rich-style guides. */
export function renderCallTree(tree: CallTree, options: RenderTreeOptions): string {
  const { root, elided } = tree;
  if (root.size_bytes === 0) return "<No allocations>\n";
  const paint = (ansi: string, text: string) => options.color ? `${ansi}${text}\x1b[0m` : text;
  const sizeText = (bytes: number) => {
    const pct = (100 * bytes) / root.size_bytes;
    return paint(percentColor(pct), `${sizeFmt(bytes)} (${pct.toFixed(2)} %)`);
  };
  // Children of hidden frames take their place; sorting after that keeps every level biggest
  // first (memray's TUI sorts before, so they can follow smaller siblings).
  const shown = (n: TreeNode): TreeNode[] => {
    const out: TreeNode[] = [];
    for (const c of n.children.values()) {
      if (options.hideImportSystem && c.import_system) continue;
      if (c.interesting || options.showUninteresting) out.push(c);
      else out.push(...shown(c));
    }
    return out.sort((a, b) => b.size_bytes - a.size_bytes);
  };
  const label = (n: TreeNode, kids: TreeNode[]) => {
    const position = n.lineno !== 0
      ? `${moduleName(n.filename, options.sysPath ?? [])}:${n.lineno}`
      : n.filename;
    const where = position === "" ? "" : `  ${paint("\x1b[2;36m", position)}`;
    return `${kids.length > 0 ? "📂" : "📄"} ${sizeText(n.size_bytes)} ` +
      `${paint("\x1b[1m", n.function)}${where}`;
  };
  const build = (n: TreeNode, kids: TreeNode[]): Line => {
    const line: Line = { text: label(n, kids), children: [] };
    let parent = line;
    let chain = kids;
    // Callers each with one child and no allocation of their own say nothing the line below
    // does not: two or more in a row become one line.
    if (options.collapseChains !== false) {
      const middle: TreeNode[] = [];
      let next = kids;
      while (next.length === 1) {
        const only = next[0];
        const below = shown(only);
        if (below.length !== 1 || below[0].size_bytes !== only.size_bytes) break;
        middle.push(only);
        next = below;
      }
      if (middle.length >= 2) {
        const files = new Set(middle.map((h) => h.filename)).size;
        const note: Line = {
          text: paint("\x1b[2m", `[[${middle.length} frames hidden in ${files} file(s)]]`),
          children: [],
        };
        line.children.push(note);
        parent = note;
        chain = next;
      }
    }
    for (const c of chain) parent.children.push(build(c, shown(c)));
    return line;
  };
  const top = build(root, shown(root));
  if (elided.locations > 0) {
    top.children.push({
      text: `❓ ${sizeText(elided.size_bytes)} ${elided.count} allocations from ` +
        `${elided.locations} locations below the configured threshold`,
      children: [],
    });
  }
  const out: string[] = [];
  const emit = (l: Line, prefix: string, guide: string) => {
    out.push(prefix + guide + l.text);
    const inner = prefix + (guide === "" ? "" : guide === "└── " ? "    " : "│   ");
    l.children.forEach((c, i) => emit(c, inner, i === l.children.length - 1 ? "└── " : "├── "));
  };
  emit(top, "", "");
  return out.join("\n") + "\n";
}

/**
 * Runs the tree report. Throws {@link UsageError} for a bad `-b` or temporary allocations of an
 * aggregated capture, and a `CaptureError` for a capture that cannot be read.
 */
export async function runTree(options: TreeOptions): Promise<void> {
  const biggest = options.biggestAllocs ?? 200;
  if (!Number.isInteger(biggest) || biggest <= 0) {
    throw new UsageError(`${biggest} is an invalid positive int value`);
  }
  const capture = await readCapture(options.capturePath);
  const threshold = options.temporaryAllocationThreshold ?? -1;
  // As memray: threads are kept apart in both modes.
  const snapshot = threshold >= 0
    ? selectSnapshot(capture, {
      mode: "temporary",
      merge_threads: false,
      temporary_threshold: threshold,
    })
    : selectSnapshot(capture, { mode: "high_water_mark", merge_threads: false });
  const tree = await withReportStacks(options.stacks, async (stacks) => {
    return buildCallTree(capture, snapshot.records, biggest, await stacks.open(capture));
  });
  const color = options.color ?? Deno.stdout.isTerminal();
  const heading = (text: string) => `${text}\n${"-".repeat(text.length)}`;
  const command = capture.header.metadata.command_line ?? "";
  const what = threshold >= 0
    ? `Temporary allocations (threshold ${threshold}): ${sizeFmt(snapshot.heap_bytes)}`
    : `Peak memory size: ${sizeFmt(snapshot.heap_bytes)}`;
  const text = [
    heading("Allocation metadata"),
    `Command line arguments: '${command}'`,
    what,
    `Number of allocations: ${tree.root.count}`,
    "",
    heading(`Biggest ${biggest} allocations:`),
    renderCallTree(tree, {
      color,
      showUninteresting: options.showUninteresting,
      hideImportSystem: options.hideImportSystem,
      sysPath: capture.header.metadata.sys_path,
    }),
  ].join("\n");
  (options.stdout ?? stdoutSink)(text);
}
