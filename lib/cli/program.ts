/** The `memray` command line: subcommands, their flags, and what each runs. */
import { Command, Option } from "./commander/commander.js";
import { integer, positiveInt } from "./arg_parsers.ts";
import { CliError, formatErrorLine, UsageError } from "./errors.ts";
import { diff, parse, stats, summary, transform, tree } from "./reports.ts";
import { VERSION } from "./version.ts";
import { runCommand } from "../run/run_command.ts";
import { registerHtmlCommands } from "./html_commands.ts";

/** Where a command's exit status is left for the caller (commander actions return nothing). */
export interface ExitBox {
  code: number;
}

async function requireResults(results: string): Promise<void> {
  try {
    if ((await Deno.stat(results)).isFile) return;
  } catch {
    // Reported below, as memray does.
  }
  throw new CliError(`No such file: ${results}`);
}

/** `--temporary-allocation-threshold N` as memray's reporters take it (-1: off). */
function temporaryThresholdOption(): Option {
  return new Option("--temporary-allocation-threshold <n>", "report temporary allocations")
    .argParser(integer)
    .default(-1);
}

/** `--temporary-allocations`, which memray does not allow together with the threshold. */
function temporaryAllocationsOption(): Option {
  return new Option("--temporary-allocations", "same as --temporary-allocation-threshold 1")
    .conflicts("temporaryAllocationThreshold");
}

function temporaryThreshold(
  opts: { temporaryAllocations?: boolean; temporaryAllocationThreshold: number },
): number {
  return opts.temporaryAllocations ? 1 : opts.temporaryAllocationThreshold;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Adds `--debug-dir DIR` (repeatable) and `--no-debuginfod` to a command whose report shows
 * stacks: they matter for captures with native traces.
 */
function withStackOptions(command: Command): Command {
  return command
    .option(
      "--debug-dir <dir>",
      "also look for native debug files in DIR (repeatable; native captures)",
      collect,
      [],
    )
    .option("--no-debuginfod", "do not fetch missing debug files from DEBUGINFOD_URLS servers");
}

function stackFlags(opts: { debugDir: string[]; debuginfod: boolean }) {
  return { debugDirs: opts.debugDir, debuginfod: opts.debuginfod };
}

/** Builds the program; actions store their exit status in `exit`. */
export function buildProgram(exit: ExitBox): Command {
  const program = new Command("memray")
    .description("Memory profiler for Python programs")
    .version(VERSION, "-V, --version", "print the version and exit")
    .option("--debug", "show stack traces of internal errors")
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    // Set before the subcommands exist: they copy these settings when created.
    .exitOverride()
    .configureOutput({
      // Parse errors: one line, the same shape as every other error.
      outputError: (message, write) => write(`${formatErrorLine(message)}\n`),
    });

  program.command("run")
    .description("Run the specified application and track its memory usage")
    .usage("[options] [-m module | -c cmd | file] [args...]")
    .passThroughOptions()
    .option("-o, --output <file>", "capture file (default: memray-<script>.<pid>.bin)")
    .option("-f, --force", "overwrite an existing output file", false)
    .option("-q, --quiet", "do not print where results go nor the hint afterwards", false)
    .option("--native", "track native (C/C++) stack frames as well", false)
    .option("--trace-python-allocators", "record pymalloc allocations too", false)
    .option("--follow-fork", "also track children started with fork()", false)
    .option("--aggregate", "write an aggregated capture (smaller; no stats report)", false)
    .addOption(
      new Option("--compress-on-exit", "LZ4-compress the capture when done (default)")
        .conflicts("compress"),
    )
    .option("--no-compress", "leave the capture uncompressed")
    .option("--python <path>", "the interpreter to run (default: python3 on PATH)")
    .option("-m", "run the target as a module, like python -m", false)
    .option("-c", "run the target as a program string, like python -c", false)
    .argument("[target]", "script path, module name (-m) or program string (-c)")
    .argument("[args...]", "the program's own arguments, passed untouched")
    .action(async (target: string | undefined, args: string[], opts) => {
      exit.code = await runCommand({
        target,
        scriptArgs: args,
        module: opts.m,
        command: opts.c,
        output: opts.output,
        force: opts.force,
        quiet: opts.quiet,
        native: opts.native,
        tracePythonAllocators: opts.tracePythonAllocators,
        followFork: opts.followFork,
        aggregate: opts.aggregate,
        compress: opts.compress,
        python: opts.python,
      });
    });

  withStackOptions(program.command("stats"))
    .description("Show high-level statistics about the allocations in a capture")
    .argument("<results>", "capture file")
    .option("-n, --num-largest <n>", "number of largest allocating locations", positiveInt, 5)
    .option("--json", "write the statistics as JSON instead of printing them", false)
    .option("-o, --output <file>", "JSON output path (default: memray-stats-<results>.json)")
    .option("-f, --force", "overwrite an existing JSON output", false)
    .action(async (results: string, opts) => {
      await requireResults(results);
      exit.code = await stats({
        capturePath: results,
        numLargest: opts.numLargest,
        json: opts.json,
        outputPath: opts.output,
        force: opts.force,
        ...stackFlags(opts),
      });
    });

  withStackOptions(program.command("summary"))
    .description("Show a table of the functions that allocated the most memory")
    .argument("<results>", "capture file")
    .option("-s, --sort-column <n>", "column to sort by, 1 to 5", integer, 1)
    .option("-r, --max-rows <n>", "rows to show (default: fit the terminal)", positiveInt)
    .addOption(temporaryThresholdOption())
    .addOption(temporaryAllocationsOption())
    .action(async (results: string, opts) => {
      if (opts.sortColumn < 1 || opts.sortColumn > 5) {
        throw new UsageError("The --sort-column argument must be between 1 and 5");
      }
      await requireResults(results);
      exit.code = await summary({
        capturePath: results,
        sortColumn: opts.sortColumn,
        maxRows: opts.maxRows,
        temporaryAllocationThreshold: temporaryThreshold(opts),
        ...stackFlags(opts),
      });
    });

  withStackOptions(program.command("tree"))
    .description("Show the peak memory usage as a call tree in the terminal")
    .argument("<results>", "capture file")
    .option(
      "-b, --biggest-allocs <n>",
      "the biggest allocations that build the tree",
      positiveInt,
      200,
    )
    .addOption(temporaryThresholdOption())
    .addOption(temporaryAllocationsOption())
    .action(async (results: string, opts) => {
      await requireResults(results);
      exit.code = await tree({
        capturePath: results,
        biggestAllocs: opts.biggestAllocs,
        temporaryAllocationThreshold: temporaryThreshold(opts),
        ...stackFlags(opts),
      });
    });

  withStackOptions(program.command("transform"))
    .description("Write the peak, leaks or temporary allocations in another tool's format")
    .argument("<format>", "gprof2dot, csv, speedscope or pprof")
    .argument("<results>", "capture file")
    .option("-o, --output <file>", "output file (default: memray-<format>-<results>...)")
    .option("-f, --force", "overwrite an existing output file", false)
    .addOption(
      new Option("--leaks", "leaked allocations instead of the peak")
        .conflicts(["temporaryAllocationThreshold", "temporaryAllocations"]),
    )
    .addOption(temporaryThresholdOption())
    .addOption(temporaryAllocationsOption())
    .action(async (format: string, results: string, opts) => {
      // runTransform checks the format first, then the capture, as memray does.
      exit.code = await transform({
        capturePath: results,
        format,
        outputPath: opts.output,
        force: opts.force,
        leaks: opts.leaks ?? false,
        temporaryAllocationThreshold: temporaryThreshold(opts),
        ...stackFlags(opts),
      });
    });

  withStackOptions(program.command("diff"))
    .description("Show per-location heap growth between two captures")
    .argument("<base>", "the base capture")
    .argument("<new>", "the capture to compare with it")
    .option("--leaks", "compare leaked allocations instead of the peak", false)
    .option("--json", "write the diff as JSON to stdout", false)
    .option("-r, --max-rows <n>", "rows to show (default: every changed location)", positiveInt)
    .option("--html", "write a differential flame graph page instead (-o names it, -f overwrites)")
    .option("-o, --output <file>", "with --html: output file (default: memray-diff-<new>.html)")
    .option("-f, --force", "with --html: overwrite an existing output file", false)
    .action(async (base: string, now: string, opts) => {
      await requireResults(base);
      await requireResults(now);
      if (opts.html) {
        const { runDiffHtml } = await import("../../reporters/diff_html.ts");
        const o = { basePath: base, newPath: now, leaks: opts.leaks, outputPath: opts.output };
        await runDiffHtml({ ...o, force: opts.force, ...stackFlags(opts) });
        return;
      }
      exit.code = await diff({
        basePath: base,
        newPath: now,
        leaks: opts.leaks,
        json: opts.json,
        maxRows: opts.maxRows,
        ...stackFlags(opts),
      });
    });

  program.command("parse")
    .description("Print every record of a capture (for debugging)")
    .argument("<results>", "capture file")
    .action(async (results: string) => {
      if (Deno.stdout.isTerminal()) {
        throw new CliError("You must redirect stdout to a file or shell pipeline.");
      }
      await requireResults(results);
      exit.code = await parse({ capturePath: results });
    });

  registerHtmlCommands(program, exit);
  return program;
}
