/**
 * Options the reports that select records share: the selection flags (`--leaks`, the temporary
 * threshold) with memray's parser's refusals, and the stack options (`--debug-dir`,
 * `--no-debuginfod`) of reports that resolve native stacks.
 */
import { UsageError } from "../lib/capture/errors.ts";
import type { ReportStacks } from "../lib/analysis/report_stacks.ts";
import type { SnapshotOptions } from "../lib/analysis/snapshot.ts";

/** The record selection flags. */
export interface SelectionFlags {
  /** Leaked allocations instead of those live at the peak. */
  leaks?: boolean;
  /** Temporary allocations with this threshold (-1 or unset: off). Excludes `leaks`. */
  temporaryAllocationThreshold?: number;
}

/** The stacks of a report that resolves native frames. */
export interface StackOptions {
  /** The report's stacks; default: its own, made from `debugDirs` and `debuginfod`. */
  stacks?: ReportStacks;
  /** Extra native debug-file directories (`--debug-dir`). */
  debugDirs?: string[];
  /** False for `--no-debuginfod` (default: servers from `DEBUGINFOD_URLS`). */
  debuginfod?: boolean;
}

/** Refuses a bad threshold, or leaks with temporary allocations, as memray's parser does. */
export function checkSelectionFlags(options: SelectionFlags): void {
  const threshold = options.temporaryAllocationThreshold ?? -1;
  if (!Number.isInteger(threshold) || threshold < -1) {
    throw new UsageError(`Invalid temporary allocation threshold: ${threshold}`);
  }
  if (options.leaks && threshold >= 0) {
    throw new UsageError(
      "argument --temporary-allocation-threshold: not allowed with argument --leaks",
    );
  }
}

/** The snapshot the selection flags pick: leaks, temporary allocations, or the peak. */
export function snapshotSelection(
  options: SelectionFlags,
  merge_threads: boolean,
): SnapshotOptions {
  const threshold = options.temporaryAllocationThreshold ?? -1;
  if (options.leaks) return { mode: "leaks", merge_threads };
  if (threshold >= 0) return { mode: "temporary", merge_threads, temporary_threshold: threshold };
  return { mode: "high_water_mark", merge_threads };
}

/** The options `withReportStacks` takes for these. */
export function reportStackOptions(
  options: StackOptions,
): { debug_dirs?: string[]; debuginfod: boolean } {
  return { debug_dirs: options.debugDirs, debuginfod: options.debuginfod ?? true };
}

/** Refuses a `--max-memory-records` that is not a whole number above 0, as memray's parser. */
export function checkMaxMemoryRecords(max: number | undefined): void {
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new UsageError(`${max} is an invalid positive int value`);
  }
}
