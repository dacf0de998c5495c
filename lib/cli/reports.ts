/**
 * The seam between the CLI and the reader/report modules, which other parts of the project
 * provide. Each is imported when its command runs, so a missing module fails that command with
 * one line instead of failing the whole CLI at start-up.
 */
import { CliError } from "./errors.ts";
import type { TransformOptions } from "../../reporters/transform/run_transform.ts";
import type { TreeOptions } from "../../reporters/tree.ts";
import type { DiffOptions } from "../../reporters/diff.ts";
import { ReportStacks } from "../analysis/report_stacks.ts";

/** The stack flags of every report that shows stacks (`--debug-dir`, `--no-debuginfod`). */
export interface StackFlags {
  /** Extra debug-file directories, in the order given. */
  debugDirs?: string[];
  /** False for `--no-debuginfod` (default true: servers from `DEBUGINFOD_URLS`). */
  debuginfod?: boolean;
}

/**
 * Options of `memray stats` (reference §1.3), as `reporters/stats.ts` takes them; the stack
 * flags matter for captures with native traces (top locations are merged-stack leaves).
 */
export interface StatsOptions extends StackFlags {
  capturePath: string;
  numLargest: number;
  json: boolean;
  outputPath?: string;
  force: boolean;
}

/**
 * Options of `memray summary` (reference §1.3), as `reporters/summary.ts` takes them;
 * `temporaryAllocationThreshold` (-1 = off) is passed for when the report supports it.
 */
export interface SummaryOptions extends StackFlags {
  capturePath: string;
  sortColumn: number;
  maxRows?: number;
  temporaryAllocationThreshold: number;
}

/** Options of `memray parse`, as `reporters/parse.ts` takes them. */
export interface ParseOptions {
  capturePath: string;
}

type Report<T> = (options: T) => Promise<number | void> | number | void;

async function load<T>(
  what: string,
  importer: () => Promise<Record<string, unknown>>,
  name: string,
): Promise<T> {
  let module: Record<string, unknown>;
  try {
    module = await importer();
  } catch (error) {
    if (/Module not found/.test((error as Error).message)) {
      throw new CliError(`${what} is not available in this build (its module is missing)`);
    }
    throw error;
  }
  if (typeof module[name] !== "function") {
    throw new CliError(`${what} is not available in this build (no ${name} export)`);
  }
  return module[name] as T;
}

async function runReport<T>(report: Report<T>, options: T): Promise<number> {
  // Reports return nothing or what they wrote; failures are thrown.
  const code = await report(options);
  return typeof code === "number" ? code : 0;
}

/**
 * Runs a report that shows stacks with one {@link ReportStacks} made from its flags, closed
 * (symbolizers released) when the report is done, whether it succeeded or not.
 */
async function runWithStacks<T extends StackFlags>(
  report: Report<Omit<T, keyof StackFlags> & { stacks: ReportStacks }>,
  options: T,
): Promise<number> {
  const { debugDirs, debuginfod, ...rest } = options;
  const stacks = new ReportStacks({ debug_dirs: debugDirs, debuginfod: debuginfod ?? true });
  try {
    return await runReport(report, { ...rest, stacks });
  } finally {
    stacks.close();
  }
}

/** Runs `memray stats` through `reporters/stats.ts` `runStats`. */
export async function stats(options: StatsOptions): Promise<number> {
  const report = await load<Report<StatsOptions & { stacks: ReportStacks }>>(
    "memray stats",
    () => import("../../reporters/stats.ts"),
    "runStats",
  );
  return await runWithStacks(report, options);
}

/** Runs `memray summary` through `reporters/summary.ts` `runSummary`. */
export async function summary(options: SummaryOptions): Promise<number> {
  const report = await load<Report<SummaryOptions & { stacks: ReportStacks }>>(
    "memray summary",
    () => import("../../reporters/summary.ts"),
    "runSummary",
  );
  return await runWithStacks(report, options);
}

/** Runs `memray parse` through `reporters/parse.ts` `runParse`. */
export async function parse(options: ParseOptions): Promise<number> {
  const report = await load<Report<ParseOptions>>(
    "memray parse",
    () => import("../../reporters/parse.ts"),
    "runParse",
  );
  return await runReport(report, options);
}

type Finisher = (path: string) => Promise<void>;

// Loaded once, possibly ahead of use (preloadFinishers): importing pack.ts compiles lz4-wasm.
let compressor: Promise<Finisher> | undefined;
let aggregator: Promise<Finisher> | undefined;

function loadCompressor(): Promise<Finisher> {
  compressor ??= load<Finisher>(
    "Compressing captures",
    () => import("../capture/pack.ts"),
    "compressCapture",
  );
  return compressor;
}

function loadAggregator(): Promise<Finisher> {
  aggregator ??= load<Finisher>(
    "--aggregate",
    () => import("../capture/aggregate.ts"),
    "aggregateCapture",
  );
  return aggregator;
}

/**
 * Starts loading the modules of the given finishing steps (`memray run` calls it once the
 * program runs), so that they are ready when the program exits. A failure to load is reported
 * by the step itself, when it runs.
 */
export function preloadFinishers(steps: { compress: boolean; aggregate: boolean }): void {
  if (steps.compress) loadCompressor().catch(() => {});
  if (steps.aggregate) loadAggregator().catch(() => {});
}

/** Compacts and LZ4-compresses a finished capture in place (`lib/capture/pack.ts`). */
export async function compressCapture(path: string): Promise<void> {
  const compress = await loadCompressor();
  await compress(path);
}

/** Rewrites a capture in the aggregated format in place (`lib/capture/aggregate.ts`). */
export async function aggregateCapture(path: string): Promise<void> {
  const aggregate = await loadAggregator();
  await aggregate(path);
}

/** Runs `memray transform` through `reporters/transform/run_transform.ts` `runTransform`. */
export async function transform(options: TransformOptions & StackFlags): Promise<number> {
  const report = await load<Report<TransformOptions>>(
    "memray transform",
    () => import("../../reporters/transform/run_transform.ts"),
    "runTransform",
  );
  // runTransform returns the path it wrote; its status is success.
  await runWithStacks(async (o) => void await report(o), options);
  return 0;
}

/** Runs `memray tree` through `reporters/tree.ts` `runTree`. */
export async function tree(options: TreeOptions & StackFlags): Promise<number> {
  const report = await load<Report<TreeOptions>>(
    "memray tree",
    () => import("../../reporters/tree.ts"),
    "runTree",
  );
  return await runWithStacks(report, options);
}

/** Runs `memray diff` through `reporters/diff.ts` `runDiff`. */
export async function diff(options: DiffOptions & StackFlags): Promise<number> {
  const report = await load<Report<DiffOptions>>(
    "memray diff",
    () => import("../../reporters/diff.ts"),
    "runDiff",
  );
  return await runWithStacks(report, options);
}
