/**
 * The HTML report commands, `memray flamegraph` and `memray table` (reference §1.2), with
 * memray's flags and their conflicts, and the stack flags of every report that shows stacks
 * (`--debug-dir`, `--no-debuginfod`: native captures). Each report module is imported when its
 * command runs.
 */
import { type Command, Option } from "./commander/commander.js";
import { integer, positiveInt } from "./arg_parsers.ts";
import { UsageError } from "./errors.ts";
import type { ExitBox } from "./program.ts";

/** Adds the flags flamegraph and table share: -o, -f, --leaks, the temporary modes, threads. */
function selectionOptions(command: Command, reporter: string): Command {
  return command
    .argument("<results>", "capture file")
    .option("-o, --output <file>", `output file (default: memray-${reporter}-<results>.html)`)
    .option("-f, --force", "overwrite an existing output file", false)
    .addOption(
      new Option("--leaks", "show leaked allocations instead of the peak")
        .conflicts(["temporaryAllocationThreshold", "temporaryAllocations"]),
    )
    .addOption(
      new Option("--temporary-allocation-threshold <n>", "report temporary allocations")
        .argParser(integer)
        .default(-1),
    )
    .addOption(
      new Option("--temporary-allocations", "same as --temporary-allocation-threshold 1")
        .conflicts("temporaryAllocationThreshold"),
    )
    .option("--split-threads", "do not merge allocations across threads", false)
    .option("--max-memory-records <n>", "RSS samples to keep (default 10000)", positiveInt)
    .option(
      "--debug-dir <dir>",
      "also look for native debug files in DIR (repeatable; native captures)",
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option("--no-debuginfod", "do not fetch missing debug files from DEBUGINFOD_URLS servers");
}

/** The stack flags (`--debug-dir`, `--no-debuginfod`) as the reports take them. */
function stackFlags(opts: { debugDir: string[]; debuginfod: boolean }) {
  return { debugDirs: opts.debugDir, debuginfod: opts.debuginfod };
}

function threshold(opts: { temporaryAllocations?: boolean; temporaryAllocationThreshold: number }) {
  return opts.temporaryAllocations ? 1 : opts.temporaryAllocationThreshold;
}

/** Registers `flamegraph` and `table` on the program. */
export function registerHtmlCommands(program: Command, exit: ExitBox): void {
  selectionOptions(
    program.command("flamegraph")
      .description("Generate an HTML flame graph for peak memory usage"),
    "flamegraph",
  )
    .option("--temporal", "a flame graph over time: choose a time range on the memory plot", false)
    .option("--inverted", "allocating functions at the root, their callers above", false)
    .action(async (results: string, opts) => {
      const temporary = threshold(opts);
      if (opts.temporal && temporary >= 0) {
        throw new UsageError("Can't create a temporal flame graph of temporary allocations");
      }
      const { runFlamegraph } = await import("../../reporters/flamegraph_html.ts");
      await runFlamegraph({
        capturePath: results,
        outputPath: opts.output,
        force: opts.force,
        leaks: opts.leaks ?? false,
        temporaryAllocationThreshold: temporary,
        temporal: opts.temporal,
        inverted: opts.inverted,
        splitThreads: opts.splitThreads,
        maxMemoryRecords: opts.maxMemoryRecords,
        ...stackFlags(opts),
      });
      exit.code = 0;
    });

  selectionOptions(
    program.command("table")
      .description("Generate an HTML table with all records in the peak memory usage"),
    "table",
  )
    .action(async (results: string, opts) => {
      const { runTableHtml } = await import("../../reporters/table_html.ts");
      await runTableHtml({
        capturePath: results,
        outputPath: opts.output,
        force: opts.force,
        leaks: opts.leaks ?? false,
        temporaryAllocationThreshold: threshold(opts),
        splitThreads: opts.splitThreads,
        maxMemoryRecords: opts.maxMemoryRecords,
        ...stackFlags(opts),
      });
      exit.code = 0;
    });
}
