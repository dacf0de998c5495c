/**
 * `memray diff BASE NEW --html`: the heap diff (lib/analysis/diff.ts) as a differential flame
 * graph page. A node's width is the sum over the locations below it of the larger of their base
 * and new bytes (so what shrank or went away stays visible); its colour says how it changed.
 */
import { type Capture, readCapture } from "../lib/capture/reader.ts";
import { classifyStack } from "../lib/analysis/frame_filter.ts";
import { diffCaptures, type DiffMode, type HeapDiff } from "../lib/analysis/diff.ts";
import { withReportStacks } from "../lib/analysis/report_stacks.ts";
import { stdoutSink, type TextSink } from "./format.ts";
import { reportOutputPath, requireCaptureFile } from "./output_file.ts";
import { reportStackOptions, type StackOptions } from "./report_options.ts";
import { renderHtmlPage } from "./html/page.ts";
import { StringTable } from "./html/data/common.ts";
import { pageFacts } from "./html/data/page_common.ts";
import {
  FLAG_IMPORT_SYSTEM,
  FLAG_INTERESTING,
  FLAG_NATIVE,
  type FlameTree,
} from "./html/app/flamegraph/model.ts";
import type { DiffPageData } from "./html/app/flamegraph/diff_model.ts";

/** Options of {@link runDiffHtml}. */
export interface DiffHtmlOptions extends StackOptions {
  basePath: string;
  newPath: string;
  leaks?: boolean;
  /** Default: `memray-diff-<new capture name, suffix .html>` next to the new capture. */
  outputPath?: string;
  force?: boolean;
  stdout?: TextSink;
}

/** The page data of a diff; `now` gives the stats and the memory plot. */
export function diffPageData(diff: HeapDiff, now: Capture): DiffPageData {
  const strings = new StringTable();
  const tree: FlameTree = {
    parent: [-1],
    function: [strings.intern("<root>")],
    filename: [strings.intern("<tracker>")],
    lineno: [0],
    value: [0],
    n_allocations: [0],
    thread: [strings.intern("merged thread")],
    flags: [FLAG_INTERESTING],
    source: [-1],
    location_node: [],
  };
  const base_value = [0];
  const new_value = [0];
  const base_count = [0];
  const new_count = [0];
  const index = new Map<string, number>();
  for (const loc of diff.locations) {
    const width = Math.max(loc.base_bytes, loc.new_bytes);
    const add = (i: number) => {
      tree.value[i] += width;
      tree.n_allocations[i] += loc.new_count;
      base_value[i] += loc.base_bytes;
      new_value[i] += loc.new_bytes;
      base_count[i] += loc.base_count;
      new_count[i] += loc.new_count;
    };
    add(0);
    let node = 0;
    // The diff's stacks are root first, launcher and CPython-internal frames already gone.
    for (const c of classifyStack([...loc.stack].reverse(), { propagate_import_system: true })) {
      const f = c.frame;
      const fn = strings.intern(f.function);
      const file = strings.intern(f.filename);
      const key = `${node}:${fn}:${file}:${f.lineno}`;
      let child = index.get(key);
      if (child === undefined) {
        child = tree.parent.length;
        index.set(key, child);
        tree.parent.push(node);
        tree.function.push(fn);
        tree.filename.push(file);
        tree.lineno.push(f.lineno);
        tree.thread.push(tree.thread[0]);
        tree.flags.push(
          (c.interesting ? FLAG_INTERESTING : 0) | (c.import_system ? FLAG_IMPORT_SYSTEM : 0) |
            (f.kind === "native" ? FLAG_NATIVE : 0),
        );
        tree.source.push(-1);
        for (
          const col of [
            tree.value,
            tree.n_allocations,
            base_value,
            new_value,
            base_count,
            new_count,
          ]
        ) col.push(0);
      }
      node = child;
      add(node);
    }
    tree.location_node.push(node);
  }
  const facts = pageFacts(now);
  return {
    kind: "diff",
    title: `memray heap diff${diff.mode === "leaks" ? " (memory leaks)" : ""}`,
    mode: diff.mode,
    stats: facts.stats,
    memory: facts.memory,
    notes: facts.notes,
    merge_threads: true,
    strings: strings.strings,
    tree,
    base_value,
    new_value,
    base_count,
    new_count,
    base: diff.base,
    new: diff.new,
    totals: diff.totals,
  };
}

/** Writes the differential flame graph page and returns its path. */
export async function runDiffHtml(options: DiffHtmlOptions): Promise<string> {
  await requireCaptureFile(options.basePath);
  await requireCaptureFile(options.newPath);
  const output = await reportOutputPath(
    { ...options, capturePath: options.newPath },
    "diff",
    ".html",
  );
  const base = await readCapture(options.basePath);
  const now = await readCapture(options.newPath);
  const mode: DiffMode = options.leaks ? "leaks" : "high_water_mark";
  // Merged native+Python stacks for `--native` captures, as the terminal diff.
  const diff = await withReportStacks(
    options.stacks,
    async (stacks) =>
      diffCaptures(base, now, mode, {
        base: await stacks.open(base),
        now: await stacks.open(now),
      }),
    reportStackOptions(options),
  );
  const data = diffPageData(diff, now);
  await Deno.writeTextFile(output, renderHtmlPage({ title: data.title, data }));
  (options.stdout ?? stdoutSink)(`Wrote ${output}\n`);
  return output;
}
