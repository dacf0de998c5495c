/** The CLI's entry point: parse, run, and turn every failure into one line and a status. */
import { CommanderError } from "./commander/commander.js";
import { formatErrorLine } from "./errors.ts";
import { buildProgram } from "./program.ts";

const EXIT_USAGE = 2;

/** Runs `memray` with `args` (without the program name); resolves to the exit status. */
export async function main(args: string[]): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(exit);
  try {
    await program.parseAsync(args, { from: "user" });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with status 0; everything else commander reports is usage.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    // The reader of our output went away (`memray parse x | head`): what it wanted, it got.
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    console.error(formatErrorLine(error));
    const debug = program.opts().debug === true || Deno.env.get("MEMRAY_DEBUG") === "1";
    if (debug && error instanceof Error && error.stack) console.error(error.stack);
    const code = (error as { exitCode?: unknown }).exitCode;
    return typeof code === "number" ? code : 1;
  }
}
