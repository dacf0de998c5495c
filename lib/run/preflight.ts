/**
 * Checks made before anything runs, each failing with one clear line. They use synchronous file
 * operations: each asynchronous one is a round trip through Deno's blocking thread pool, and on a
 * busy machine the handful made here added 10-30 ms before the profiled program could start.
 */
import { CliError, UsageError } from "../cli/errors.ts";
import { outputDirectory, type OutputNaming, type TargetMode } from "./output_path.ts";

/** What `memray run` was asked to run. */
export interface RunTarget {
  mode: TargetMode;
  /** The script path, module name or command string. */
  target: string;
}

/** Picks the target kind from `-m`/`-c`, refusing combinations memray refuses. */
export function checkTarget(
  target: string | undefined,
  flags: { module: boolean; command: boolean },
): RunTarget {
  if (flags.module && flags.command) throw new UsageError("run: -m and -c cannot be used together");
  if (target === undefined) {
    throw new UsageError("run: missing the program to run (a script, -m module or -c command)");
  }
  if (flags.module) return { mode: "module", target };
  if (flags.command) {
    if (exists(target)) throw new UsageError("run: remove the option -c to run a file");
    return { mode: "command", target };
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(`Cannot run ${target}: no such file`);
    }
    throw new CliError(`Cannot run ${target}: ${(error as Error).message}`);
  }
  if (info.isDirectory) throw new CliError(`Cannot run ${target}: it is a directory`);
  return { mode: "file", target };
}

/**
 * Refuses an existing output without `--force` (when the name is known before the run) and an
 * output directory that is missing or cannot be written (by creating and removing a probe file,
 * which also holds for root on read-only file systems).
 */
export function checkOutput(naming: OutputNaming, force: boolean): void {
  if (naming.explicit !== undefined) {
    const existing = statOrUndefined(naming.explicit);
    if (existing?.isDirectory) {
      throw new CliError(`Cannot write output file ${naming.explicit}: it is a directory`);
    }
    if (existing !== undefined && !force) {
      throw new CliError(
        `Output file ${naming.explicit} already exists. ` +
          "Memray can overwrite it with the --force CLI argument.",
      );
    }
  }
  const directory = outputDirectory(naming);
  const shown = naming.explicit === undefined
    ? `the capture into ${directory}`
    : `output file ${naming.explicit}`;
  const info = statOrUndefined(directory);
  if (info === undefined) {
    throw new CliError(`Cannot write ${shown}: directory ${directory} does not exist`);
  }
  if (!info.isDirectory) {
    throw new CliError(`Cannot write ${shown}: ${directory} is not a directory`);
  }
  const probe = `${directory}/.memray-probe-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(0), { createNew: true });
  } catch (error) {
    throw new CliError(
      `Cannot write ${shown}: directory ${directory} is not writable ` +
        `(${(error as Error).message.split(":")[0]})`,
    );
  }
  Deno.removeSync(probe);
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  return statOrUndefined(path) !== undefined;
}
