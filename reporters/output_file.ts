/**
 * What every report that writes a file does around it, as memray's `commands/common.py`: the
 * capture must be a file, the output defaults to `memray-<reporter>-<capture name>` next to it,
 * an existing output is kept without `--force`, and "Wrote <output>" ends the run.
 */
import { UsageError } from "../lib/capture/errors.ts";
import { stdoutSink, type TextSink } from "./format.ts";
import { renderHtmlPage } from "./html/page.ts";
import { defaultOutputPath, pathString } from "./transform/output_path.ts";

/** The options of a file-writing report that this module reads. */
export interface OutputFileOptions {
  capturePath: string;
  /** Default: `memray-<reporter>-<capture name, suffix replaced>` next to the capture. */
  outputPath?: string;
  /** Overwrite an existing output file. */
  force?: boolean;
  /** Where "Wrote ..." goes (default: the process stdout). */
  stdout?: TextSink;
  /** Whether stdout is a terminal (default: `Deno.stdout.isTerminal()`). */
  stdoutIsTerminal?: boolean;
}

/** Whether a path exists (a dangling link does not). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Throws memray's {@link UsageError} unless the capture path names a file. */
export async function requireCaptureFile(capture_path: string): Promise<void> {
  try {
    if ((await Deno.stat(capture_path)).isFile) return;
  } catch {
    // Reported below, as memray does.
  }
  throw new UsageError(`No such file: ${capture_path}`);
}

/**
 * The output path of a report (`reporter` and `suffix` name the default); throws memray's
 * {@link UsageError} when it exists and `force` is not set.
 */
export async function reportOutputPath(
  options: OutputFileOptions,
  reporter: string,
  suffix: string,
): Promise<string> {
  const output = options.outputPath !== undefined
    ? pathString(options.outputPath)
    : defaultOutputPath(options.capturePath, reporter, suffix);
  if (!options.force && await exists(output)) {
    throw new UsageError(`File already exists, will not overwrite without --force: ${output}`);
  }
  return output;
}

/**
 * Says "Wrote <output>" on the report's stdout; returns that sink and whether it is a terminal,
 * for what a report adds after it.
 */
export function reportWritten(
  options: OutputFileOptions,
  output: string,
): { out: TextSink; terminal: boolean } {
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  const out = options.stdout ?? stdoutSink;
  // memray's two progress bars leave a blank line each where they cannot erase themselves.
  out(`${terminal ? "" : "\n\n"}Wrote ${output}\n`);
  return { out, terminal };
}

/**
 * Runs an HTML report around `pageData`: the capture must be a file and the output free (or
 * `force`), then the page is written and "Wrote <output>" said. Returns the output path.
 */
export async function writeHtmlReport(
  options: OutputFileOptions,
  reporter: string,
  pageData: () => Promise<{ title: string }>,
): Promise<string> {
  await requireCaptureFile(options.capturePath);
  const output = await reportOutputPath(options, reporter, ".html");
  const data = await pageData();
  await Deno.writeTextFile(output, renderHtmlPage({ title: data.title, data }));
  reportWritten(options, output);
  return output;
}
