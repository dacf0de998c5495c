/**
 * `memray flamegraph`: the peak, leaks, temporary allocations or (`--temporal`) allocations over
 * time as one self-contained HTML flame graph page (reference §1.2, §2.3).
 */
import { UsageError } from "../lib/capture/errors.ts";
import type { CaptureInfo } from "../lib/capture/event_scan.ts";
import { type Capture, readCapture } from "../lib/capture/reader.ts";
import type { LocationRecord } from "../lib/analysis/locations.ts";
import { withReportStacks } from "../lib/analysis/report_stacks.ts";
import type { StackFrames } from "../lib/analysis/stack_resolver.ts";
import { selectSnapshot } from "../lib/analysis/snapshot.ts";
import {
  temporalAllocations,
  type TemporalData as AnalysisTemporal,
  temporalHighWaterMark,
} from "../lib/analysis/temporal.ts";
import { type OutputFileOptions, writeHtmlReport } from "./output_file.ts";
import {
  checkMaxMemoryRecords,
  checkSelectionFlags,
  reportStackOptions,
  type SelectionFlags,
  snapshotSelection,
  type StackOptions,
} from "./report_options.ts";
import { StringTable } from "./html/data/common.ts";
import { type PageFacts, pageFacts, pageFactsOf } from "./html/data/page_common.ts";
import { streamedSnapshot } from "./html/data/streamed_snapshot.ts";
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
export interface FlamegraphOptions extends OutputFileOptions, SelectionFlags, StackOptions {
  temporal?: boolean;
  inverted?: boolean;
  splitThreads?: boolean;
  /** memray's `--max-memory-records` (default 10000). */
  maxMemoryRecords?: number;
  /** Cap on the nodes of each tree (default: flamegraph_data's). */
  maxNodes?: number;
}

/** Checks the flags' combinations as memray's parser does; throws {@link UsageError}. */
export function checkFlamegraphOptions(options: FlamegraphOptions): void {
  checkSelectionFlags(options);
  const threshold = options.temporaryAllocationThreshold ?? -1;
  if (options.temporal && threshold >= 0) throw new UsageError(TEMPORAL_TEMPORARY_MESSAGE);
  checkMaxMemoryRecords(options.maxMemoryRecords);
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
  const merge_threads = !options.splitThreads;
  const facts = pageFacts(capture, { max_memory_records: options.maxMemoryRecords });
  if (options.temporal) {
    const topts = { merge_threads, max_memory_records: options.maxMemoryRecords };
    const t = options.leaks
      ? temporalAllocations(capture, topts)
      : temporalHighWaterMark(capture, topts);
    const { locations, temporal } = temporalLocations(capture, t, options.leaks ?? false);
    return flamegraphPage(capture, facts, locations, options, { stacks, temporal });
  }
  const selection = snapshotSelection(options, merge_threads);
  const locations = snapshotLocations(capture, selectSnapshot(capture, selection).records);
  return flamegraphPage(capture, facts, locations, options, { stacks });
}

/** The snapshot mode of the options. */
function flamegraphMode(options: FlamegraphOptions): "leaks" | "temporary" | "high_water_mark" {
  return snapshotSelection(options, true).mode;
}

/** A snapshot's records as tree locations. */
function snapshotLocations(
  capture: CaptureInfo,
  records: readonly LocationRecord[],
): FlameLocation[] {
  return records.map((r) => ({
    py_stack: r.py_stack,
    native_stack: r.native_stack,
    thread_id: r.thread_id,
    size_bytes: r.size_bytes,
    count: r.count,
    hide_launcher: r.thread_id === capture.main_thread_id,
  }));
}

/** The page data of the locations of a capture (read with or without its events). */
function flamegraphPage(
  capture: CaptureInfo,
  facts: PageFacts,
  locations: FlameLocation[],
  options: FlamegraphOptions,
  extra: { stacks?: StackFrames; temporal?: TemporalData },
): FlamegraphPageData {
  const { stacks, temporal } = extra;
  const merge_threads = !options.splitThreads;
  const inverted = options.inverted ?? false;
  const mode = flamegraphMode(options);
  const notes = [...facts.notes];
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
  return await writeHtmlReport(options, "flamegraph", () => flamegraphDataOf(options));
}

/**
 * The page data of a capture file. The peak and the leaks of a full capture come from one
 * native fold (no events read into memory) when the report library loads; the temporal and
 * temporary modes, and captures the fold leaves to it, from the full reader.
 */
export async function flamegraphDataOf(options: FlamegraphOptions): Promise<FlamegraphPageData> {
  const stack_options = reportStackOptions(options);
  const mode = flamegraphMode(options);
  const streamed = options.temporal || mode === "temporary" ? undefined : await streamedSnapshot(
    options.capturePath,
    { leaks: mode === "leaks", merge_threads: !options.splitThreads },
  );
  if (streamed !== undefined) {
    const { capture, raw, event_count } = streamed;
    const facts = pageFactsOf(capture, raw, event_count, {
      max_memory_records: options.maxMemoryRecords,
    });
    const locations = snapshotLocations(capture, streamed.records);
    return await withReportStacks(
      options.stacks,
      async (stacks) =>
        flamegraphPage(capture, facts, locations, options, { stacks: await stacks.open(capture) }),
      stack_options,
    );
  }
  const capture = await readCapture(options.capturePath);
  return await withReportStacks(
    options.stacks,
    async (stacks) => flamegraphPageData(capture, options, await stacks.open(capture)),
    stack_options,
  );
}
