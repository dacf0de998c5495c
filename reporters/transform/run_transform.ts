/**
 * `memray transform FORMAT results`: checks the request as memray does (format, capture, output
 * name), selects the records (peak, leaks or temporary; threads merged) and writes one format.
 */
import { UsageError } from "../../lib/capture/errors.ts";
import { readCapture } from "../../lib/capture/reader.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";
import { VERSION } from "../../lib/cli/version.ts";
import { ReportStacks, withReportStacks } from "../../lib/analysis/report_stacks.ts";
import {
  type OutputFileOptions,
  reportOutputPath,
  reportWritten,
  requireCaptureFile,
} from "../output_file.ts";
import { checkSelectionFlags, type SelectionFlags, snapshotSelection } from "../report_options.ts";
import { CSV_SUFFIX, renderCsv } from "./csv.ts";
import { GPROF2DOT_SUFFIX, renderGprof2dot } from "./gprof2dot.ts";
import { gprof2dotHint, onPath } from "./gprof2dot_hint.ts";
import { buildPprof, PPROF_SUFFIX } from "./pprof.ts";
import { renderSpeedscope, SPEEDSCOPE_SUFFIX } from "./speedscope.ts";

/** Output suffix of every format, in the order `--help` lists them. */
export const TRANSFORM_FORMATS: Readonly<Record<string, string>> = {
  gprof2dot: GPROF2DOT_SUFFIX,
  csv: CSV_SUFFIX,
  speedscope: SPEEDSCOPE_SUFFIX,
  pprof: PPROF_SUFFIX,
};

/** Options of {@link runTransform}. */
export interface TransformOptions extends OutputFileOptions, SelectionFlags {
  /** gprof2dot, csv, speedscope or pprof (any case); names the default output. */
  format: string;
  /** Whether an executable is on PATH (default: a PATH search); for gprof2dot's hint. */
  onPath?: (name: string) => Promise<boolean>;
  /** The report's stacks (the CLI's `--debug-dir`, `--no-debuginfod`); default: its own. */
  stacks?: ReportStacks;
}

/**
 * Runs the transform and returns the output path. Throws {@link UsageError} with memray's
 * messages (unknown format, missing capture, existing output, leaks with temporary allocations,
 * temporary allocations of an aggregated capture) or a `CaptureError`.
 */
export async function runTransform(options: TransformOptions): Promise<string> {
  const format = options.format.toLowerCase();
  const suffix = Object.hasOwn(TRANSFORM_FORMATS, format) ? TRANSFORM_FORMATS[format] : undefined;
  if (suffix === undefined) throw new UsageError(`Format not supported: ${options.format}`);
  checkSelectionFlags(options);
  await requireCaptureFile(options.capturePath);
  const output = await reportOutputPath(options, format, suffix);
  const capture = await readCapture(options.capturePath);
  // transform has no --split-threads: memray always merges threads here.
  const selection = snapshotSelection(options, true);
  const { records } = selectSnapshot(capture, selection);
  await withReportStacks(options.stacks, async (report_stacks) => {
    const stacks = await report_stacks.open(capture);
    if (format === "pprof") {
      const profile = buildPprof(capture, records, { selection: selection.mode, stacks });
      await Deno.writeFile(output, profile);
      return;
    }
    const text = format === "csv"
      ? renderCsv(capture, records, stacks)
      : format === "gprof2dot"
      ? renderGprof2dot(capture, records, stacks)
      : renderSpeedscope(capture, records, { exporter: `memray@${VERSION}`, stacks });
    await Deno.writeTextFile(output, text);
  });
  const { out, terminal } = reportWritten(options, output);
  if (format === "gprof2dot") {
    const which = options.onPath ?? onPath;
    let width = 80;
    if (terminal) {
      try {
        width = Deno.consoleSize().columns;
      } catch { /* not a terminal after all */ }
    }
    out(gprof2dotHint({
      output,
      hasGprof2dot: await which("gprof2dot"),
      hasDot: await which("dot"),
      color: terminal,
      width,
    }));
  }
  return output;
}
