/**
 * `memray table`: the peak, leaks or temporary allocations as one self-contained HTML page of
 * sortable, searchable rows (reference §1.2, §2.4), grouped by (thread unless merged, allocator,
 * top frame).
 */
import { readCapture } from "../lib/capture/reader.ts";
import { withReportStacks } from "../lib/analysis/report_stacks.ts";
import { selectSnapshot } from "../lib/analysis/snapshot.ts";
import { type OutputFileOptions, writeHtmlReport } from "./output_file.ts";
import {
  checkMaxMemoryRecords,
  checkSelectionFlags,
  reportStackOptions,
  type SelectionFlags,
  snapshotSelection,
  type StackOptions,
} from "./report_options.ts";
import { buildTableData } from "./html/data/table_data.ts";
import { pageFactsOf } from "./html/data/page_common.ts";
import { streamedSnapshot } from "./html/data/streamed_snapshot.ts";
import type { TablePageData } from "./html/data/common.ts";

/** Options of {@link runTableHtml}. */
export interface TableHtmlOptions extends OutputFileOptions, SelectionFlags, StackOptions {
  /** One row per thread and location (memray's `--split-threads`). */
  splitThreads?: boolean;
  /** memray's `--max-memory-records` (default 10000). */
  maxMemoryRecords?: number;
}

/** Checks the flags' combinations as memray's parser does; throws {@link UsageError}. */
export function checkTableOptions(options: TableHtmlOptions): void {
  checkSelectionFlags(options);
  checkMaxMemoryRecords(options.maxMemoryRecords);
}

/**
 * The table page's data for a capture file. The peak and the leaks of a full capture come from
 * one native fold (snapshot, heap at each RSS sample, event count; no events read into memory)
 * when the report library loads; temporary allocations, and captures the fold leaves to it, from
 * the full reader.
 */
export async function tableDataOf(options: TableHtmlOptions): Promise<TablePageData> {
  const selection = snapshotSelection(options, !options.splitThreads);
  const stack_options = reportStackOptions(options);
  const table_options = {
    mode: selection.mode,
    merge_threads: selection.merge_threads,
    max_memory_records: options.maxMemoryRecords,
  };
  const streamed = selection.mode === "temporary" ? undefined : await streamedSnapshot(
    options.capturePath,
    { leaks: selection.mode === "leaks", merge_threads: selection.merge_threads },
  );
  if (streamed !== undefined) {
    const { capture, raw, event_count } = streamed;
    const facts = pageFactsOf(capture, raw, event_count, table_options);
    return await withReportStacks(
      options.stacks,
      async (stacks) =>
        buildTableData(capture, streamed.records, {
          ...table_options,
          facts,
          stacks: await stacks.open(capture),
        }),
      stack_options,
    );
  }
  const capture = await readCapture(options.capturePath);
  // Throws memray's message for temporary allocations of an aggregated capture.
  const { records } = selectSnapshot(capture, selection);
  return await withReportStacks(
    options.stacks,
    async (stacks) =>
      buildTableData(capture, records, { ...table_options, stacks: await stacks.open(capture) }),
    stack_options,
  );
}

/**
 * Runs `memray table` and returns the output path. Throws {@link UsageError} with memray's
 * messages (missing capture, existing output, conflicting flags, temporary allocations of an
 * aggregated capture) or a `CaptureError` for a damaged capture.
 */
export async function runTableHtml(options: TableHtmlOptions): Promise<string> {
  checkTableOptions(options);
  return await writeHtmlReport(options, "table", () => tableDataOf(options));
}
