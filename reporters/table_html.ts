/**
 * `memray table`: the peak, leaks or temporary allocations as one self-contained HTML page of
 * sortable, searchable rows (reference §1.2, §2.4), grouped by (thread unless merged, allocator,
 * top frame).
 */
import { UsageError } from "../lib/capture/errors.ts";
import { readCapture } from "../lib/capture/reader.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import { selectSnapshot, type SnapshotOptions } from "../lib/analysis/snapshot.ts";
import { stdoutSink, type TextSink } from "./format.ts";
import { defaultOutputPath, pathString } from "./transform/output_path.ts";
import { renderHtmlPage } from "./html/page.ts";
import { buildTableData } from "./html/data/table_data.ts";
import type { TablePageData } from "./html/data/common.ts";

/** Options of {@link runTableHtml}. */
export interface TableHtmlOptions {
  capturePath: string;
  /** Default: `memray-table-<capture name, suffix .html>` next to the capture. */
  outputPath?: string;
  /** Overwrite an existing output file. */
  force?: boolean;
  /** Leaked allocations instead of those live at the peak. */
  leaks?: boolean;
  /** Temporary allocations with this threshold (-1 or unset: off). Excludes `leaks`. */
  temporaryAllocationThreshold?: number;
  /** One row per thread and location (memray's `--split-threads`). */
  splitThreads?: boolean;
  /** memray's `--max-memory-records` (default 10000). */
  maxMemoryRecords?: number;
  /** Where "Wrote ..." goes (default: the process stdout). */
  stdout?: TextSink;
  /** Whether stdout is a terminal (default: `Deno.stdout.isTerminal()`). */
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

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Checks the flags' combinations as memray's parser does; throws {@link UsageError}. */
export function checkTableOptions(options: TableHtmlOptions): void {
  const threshold = options.temporaryAllocationThreshold ?? -1;
  if (!Number.isInteger(threshold) || threshold < -1) {
    throw new UsageError(`Invalid temporary allocation threshold: ${threshold}`);
  }
  if (options.leaks && threshold >= 0) {
    throw new UsageError(
      "argument --temporary-allocation-threshold: not allowed with argument --leaks",
    );
  }
  const max = options.maxMemoryRecords;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new UsageError(`${max} is an invalid positive int value`);
  }
}

/** The record selection of the options. */
export function tableSelection(options: TableHtmlOptions): SnapshotOptions {
  const threshold = options.temporaryAllocationThreshold ?? -1;
  const merge_threads = !options.splitThreads;
  if (options.leaks) return { mode: "leaks", merge_threads };
  if (threshold >= 0) return { mode: "temporary", merge_threads, temporary_threshold: threshold };
  return { mode: "high_water_mark", merge_threads };
}

/**
 * The table page's data for a capture file. The whole capture is read (not streamed): the memory
 * plot needs the heap at every RSS sample, which needs each event's seq.
 */
export async function tableDataOf(options: TableHtmlOptions): Promise<TablePageData> {
  const capture = await readCapture(options.capturePath);
  const selection = tableSelection(options);
  // Throws memray's message for temporary allocations of an aggregated capture.
  const { records } = selectSnapshot(capture, selection);
  return await withReportStacks(
    options.stacks,
    async (stacks) =>
      buildTableData(capture, records, {
        mode: selection.mode,
        merge_threads: selection.merge_threads,
        max_memory_records: options.maxMemoryRecords,
        stacks: await stacks.open(capture),
      }),
    { debug_dirs: options.debugDirs, debuginfod: options.debuginfod ?? true },
  );
}

/**
 * Runs `memray table` and returns the output path. Throws {@link UsageError} with memray's
 * messages (missing capture, existing output, conflicting flags, temporary allocations of an
 * aggregated capture) or a `CaptureError` for a damaged capture.
 */
export async function runTableHtml(options: TableHtmlOptions): Promise<string> {
  checkTableOptions(options);
  if (!(await isFile(options.capturePath))) {
    throw new UsageError(`No such file: ${options.capturePath}`);
  }
  const output = options.outputPath !== undefined
    ? pathString(options.outputPath)
    : defaultOutputPath(options.capturePath, "table", ".html");
  if (!options.force && await exists(output)) {
    throw new UsageError(`File already exists, will not overwrite without --force: ${output}`);
  }
  const data = await tableDataOf(options);
  await Deno.writeTextFile(output, renderHtmlPage({ title: data.title, data }));
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  // memray's two progress bars leave a blank line each where they cannot erase themselves.
  (options.stdout ?? stdoutSink)(`${terminal ? "" : "\n\n"}Wrote ${output}\n`);
  return output;
}
