/**
 * `memray flamegraph`: the peak, leaks, temporary allocations or (`--temporal`) allocations over
 * time as one self-contained HTML flame graph page (reference §1.2, §2.3).
 */
import { UsageError } from "../lib/capture/errors.ts";
import { type Capture, readCapture } from "../lib/capture/reader.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import type { StackFrames } from "../lib/analysis/stack_resolver.ts";
import { selectSnapshot, type SnapshotOptions } from "../lib/analysis/snapshot.ts";
import {
  temporalAllocations,
  type TemporalData as AnalysisTemporal,
  temporalHighWaterMark,
} from "../lib/analysis/temporal.ts";
import { stdoutSink, type TextSink } from "./format.ts";
import { defaultOutputPath, pathString } from "./transform/output_path.ts";
import { renderHtmlPage } from "./html/page.ts";
import { StringTable } from "./html/data/common.ts";
import { pageFacts } from "./html/data/page_common.ts";
import {
  buildFlameTree,
  type FlameLocation,
  foldNote,
  threadLabel,
} from "./html/data/flamegraph_data.ts";
import type { FlamegraphPageData, TemporalData } from "./html/app/flamegraph/model.ts";
import { formatBytes } from "./html/app/common/format.ts";

/** memray's refusal of `--temporal` with temporary allocations (an argparse error). */
export const TEMPORAL_TEMPORARY_MESSAGE =
  "Can't create a temporal flame graph of temporary allocations";

/** Options of {@link runFlamegraph}. */
export interface FlamegraphOptions {
  capturePath: string;
  /** Default: `memray-flamegraph-<capture name, suffix .html>` next to the capture. */
  outputPath?: string;
  force?: boolean;
  leaks?: boolean;
  /** Temporary allocations with this threshold (-1 or unset: off). */
  temporaryAllocationThreshold?: number;
  temporal?: boolean;
  inverted?: boolean;
  splitThreads?: boolean;
  /** memray's `--max-memory-records` (default 10000). */
  maxMemoryRecords?: number;
  /** Cap on the nodes of each tree (default: flamegraph_data's). */
  maxNodes?: number;
  stdout?: TextSink;
  stdoutIsTerminal?: boolean;
  /** The report's stacks; default: its own, made from `debugDirs` and `debuginfod`. */
  stacks?: ReportStacks;
  /** Extra native debug-file directories (`--debug-dir`). */
  debugDirs?: string[];
  /** False for `--no-debuginfod` (default: servers from `DEBUGINFOD_URLS`). */
  debuginfod?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Checks the flags' combinations as memray's parser does; throws {@link UsageError}. */
export function checkFlamegraphOptions(options: FlamegraphOptions): void {
  const threshold = options.temporaryAllocationThreshold ?? -1;
  if (!Number.isInteger(threshold) || threshold < -1) {
    throw new UsageError(`Invalid temporary allocation threshold: ${threshold}`);
  }
  if (options.leaks && threshold >= 0) {
    throw new UsageError(
      "argument --temporary-allocation-threshold: not allowed with argument --leaks",
    );
  }
  if (options.temporal && threshold >= 0) throw new UsageError(TEMPORAL_TEMPORARY_MESSAGE);
  const max = options.maxMemoryRecords;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new UsageError(`${max} is an invalid positive int value`);
  }
}

/** Lines of readable Python source files, cached; other files are not read (confidentiality). */
export function sourceLineReader(max_file_bytes = 8 << 20): (file: string) => string[] | undefined {
  const cache = new Map<string, string[] | undefined>();
  return (file) => {
    if (cache.has(file)) return cache.get(file);
    let lines: string[] | undefined;
    if (file.endsWith(".py")) {
      try {
        if (Deno.statSync(file).size <= max_file_bytes) {
          lines = Deno.readTextFileSync(file).split("\n");
        }
      } catch {
        lines = undefined;
      }
    }
    cache.set(file, lines);
    return lines;
  };
}

/**
 * Builds the page data of a capture (what {@link runFlamegraph} embeds). `stacks` resolves the
 * stacks (merged native frames for `--native` captures); default: the Python stacks.
 */
export function flamegraphPageData(
  capture: Capture,
  options: FlamegraphOptions,
  stacks?: StackFrames,
): FlamegraphPageData {
  checkFlamegraphOptions(options);
  const threshold = options.temporaryAllocationThreshold ?? -1;
  const merge_threads = !options.splitThreads;
  const inverted = options.inverted ?? false;
  const facts = pageFacts(capture, { max_memory_records: options.maxMemoryRecords });
  const notes = [...facts.notes];
  let locations: FlameLocation[];
  let temporal: TemporalData | undefined;
  const mode = options.leaks ? "leaks" : threshold >= 0 ? "temporary" : "high_water_mark";
  if (options.temporal) {
    const topts = { merge_threads, max_memory_records: options.maxMemoryRecords };
    const t = options.leaks
      ? temporalAllocations(capture, topts)
      : temporalHighWaterMark(capture, topts);
    ({ locations, temporal } = temporalLocations(capture, t, options.leaks ?? false));
  } else {
    const selection: SnapshotOptions = {
      mode,
      merge_threads,
      temporary_threshold: threshold >= 0 ? threshold : undefined,
    };
    locations = selectSnapshot(capture, selection).records.map((r) => ({
      py_stack: r.py_stack,
      native_stack: r.native_stack,
      thread_id: r.thread_id,
      size_bytes: r.size_bytes,
      count: r.count,
      hide_launcher: r.thread_id === capture.main_thread_id,
    }));
  }
  const strings = new StringTable();
  const sourceLines = sourceLineReader();
  const common = { inverted, merge_threads, max_nodes: options.maxNodes, sourceLines, stacks };
  const built = buildFlameTree(capture, locations, strings, common);
  const no_imports = inverted
    ? buildFlameTree(capture, locations, strings, { ...common, drop_import_system: true })
    : undefined;
  const note = foldNote(built, (b) => formatBytes(b));
  if (note !== undefined) notes.push(note);
  if (
    options.leaks && capture.header.metadata.python_allocator === "pymalloc" &&
    !capture.header.trace_python_allocators
  ) {
    notes.push(
      "Report generated with --leaks while pymalloc was the Python allocator, without " +
        "--trace-python-allocators: memory that pymalloc keeps in its pools may show as leaked " +
        "and leaks inside the pools may not show (run with PYTHONMALLOC=malloc).",
    );
  }
  const thread_labels = [
    ...new Set(locations.map((l) => threadLabel(capture, l.thread_id, merge_threads))),
  ]
    .sort();
  const kind = options.temporal ? "temporal flamegraph" : "flamegraph";
  const data: FlamegraphPageData = {
    kind: "flamegraph",
    title: `memray ${inverted ? "inverted " : ""}${kind} report${
      options.leaks ? " (memory leaks)" : ""
    }`,
    mode,
    stats: facts.stats,
    memory: facts.memory,
    notes,
    merge_threads,
    inverted,
    strings: strings.strings,
    tree: built.tree,
    threads: thread_labels.map((t) => strings.intern(t)),
  };
  if (no_imports !== undefined) data.no_imports_tree = no_imports.tree;
  if (temporal !== undefined) data.temporal = temporal;
  // Interned after the trees: keep the table in step.
  data.strings = strings.strings;
  return data;
}

/** Temporal records as tree locations (one per analysis location) and the page's intervals. */
function temporalLocations(
  capture: Capture,
  t: AnalysisTemporal,
  leaks: boolean,
): { locations: FlameLocation[]; temporal: TemporalData } {
  const intervals: number[] = [];
  const locations = t.locations.map((l, k) => {
    let weight = 0;
    let count = 0;
    for (const iv of l.intervals) {
      intervals.push(
        iv.allocated_before_snapshot,
        iv.deallocated_before_snapshot ?? -1,
        k,
        iv.n_allocations,
        iv.n_bytes,
      );
      weight += iv.n_bytes;
      count += iv.n_allocations;
    }
    return {
      py_stack: l.py_stack,
      native_stack: l.native_stack,
      thread_id: l.thread_id,
      size_bytes: weight,
      count,
      // Merged locations carry thread 0: the launcher's frames are hidden for them too.
      hide_launcher: l.thread_id === 0 || l.thread_id === capture.main_thread_id,
    };
  });
  const snapshot_time_ms = leaks
    ? t.snapshots.map((s) => s.time_ms)
    : capture.rss.map((s) => capture.header.start_time_ms + s.time_offset_ms);
  const temporal: TemporalData = {
    variant: leaks ? "leaks" : "high_water_mark",
    snapshot_time_ms,
    intervals,
  };
  if (t.hwm_bytes_by_snapshot !== undefined) temporal.hwm_bytes = t.hwm_bytes_by_snapshot;
  return { locations, temporal };
}

/**
 * Runs the report and returns the output path. Throws {@link UsageError} with memray's messages
 * (bad flag combinations, missing capture, existing output, modes an aggregated capture cannot
 * give) or a `CaptureError`.
 */
export async function runFlamegraph(options: FlamegraphOptions): Promise<string> {
  checkFlamegraphOptions(options);
  try {
    if (!(await Deno.stat(options.capturePath)).isFile) throw new Error();
  } catch {
    throw new UsageError(`No such file: ${options.capturePath}`);
  }
  const output = options.outputPath !== undefined
    ? pathString(options.outputPath)
    : defaultOutputPath(options.capturePath, "flamegraph", ".html");
  if (!options.force && await exists(output)) {
    throw new UsageError(`File already exists, will not overwrite without --force: ${output}`);
  }
  const capture = await readCapture(options.capturePath);
  const data = await withReportStacks(
    options.stacks,
    async (stacks) => flamegraphPageData(capture, options, await stacks.open(capture)),
    { debug_dirs: options.debugDirs, debuginfod: options.debuginfod ?? true },
  );
  await Deno.writeTextFile(output, renderHtmlPage({ title: data.title, data }));
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  (options.stdout ?? stdoutSink)(`${terminal ? "" : "\n\n"}Wrote ${output}\n`);
  return output;
}
