/** `memray run`: check, launch the profiled program, then finish its capture files. */
import { CliError, formatErrorLine } from "../cli/errors.ts";
import { aggregateCapture, compressCapture, preloadFinishers } from "../cli/reports.ts";
import { TOOL_NAME } from "../cli/version.ts";
import { locateNativeLib } from "../native_lib.ts";
import { locateBootstrap, locateFollowHookDir } from "./bootstrap_path.ts";
import { launch } from "./launch.ts";
import {
  outputNaming,
  outputPathFor,
  pythonBasename,
  pythonDirname,
  pythonJoin,
} from "./output_path.ts";
import { checkOutput, checkTarget } from "./preflight.ts";
import { resolvePython } from "./python.ts";

/** The options of `memray run` (reference §1.1). */
export interface RunOptions {
  target?: string;
  scriptArgs: string[];
  module: boolean;
  command: boolean;
  output?: string;
  force: boolean;
  quiet: boolean;
  native: boolean;
  tracePythonAllocators: boolean;
  followFork: boolean;
  aggregate: boolean;
  compress: boolean;
  python?: string;
  /** The engine library to preload (default: found by `locateNativeLib`). */
  nativeLib?: string;
}

/** The steps after the run, replaceable in tests. */
export interface CaptureFinishers {
  compress: (path: string) => Promise<void>;
  aggregate: (path: string) => Promise<void>;
  /**
   * Called once the program has started, with the steps that will run: loads what they need
   * while the program runs, so that nothing is loaded after it exits.
   */
  preload?: (steps: { compress: boolean; aggregate: boolean }) => void;
}

const DEFAULT_FINISHERS: CaptureFinishers = {
  compress: compressCapture,
  aggregate: aggregateCapture,
  preload: preloadFinishers,
};

/** Runs the program under the profiler; resolves to the exit status to leave with. */
export async function runCommand(
  options: RunOptions,
  finishers: CaptureFinishers = DEFAULT_FINISHERS,
): Promise<number> {
  const { mode, target } = checkTarget(options.target, options);
  const naming = outputNaming(mode, target, options.output);
  checkOutput(naming, options.force);
  const python = await resolvePython({ requested: options.python });
  const nativeLib = options.nativeLib ?? await locateNativeLib();
  const bootstrap = await locateBootstrap();
  const followHookDir = options.followFork ? await locateFollowHookDir() : undefined;

  const before = captureCandidates(naming.explicit, options.followFork);
  const steps = { compress: options.compress, aggregate: options.aggregate };
  const result = await launch({
    python,
    bootstrap,
    nativeLib,
    scriptArgs: options.scriptArgs,
    config: {
      mode,
      target,
      output: naming.explicit,
      default_output_dir: naming.defaultDir,
      default_output_stem: naming.defaultStem,
      force: options.force,
      quiet: options.quiet,
      native: options.native,
      trace_python_allocators: options.tracePythonAllocators,
      follow_fork: options.followFork,
      follow_hook_dir: followHookDir,
      hint_command: "memray stats",
      tool: TOOL_NAME,
    },
  }, () => {
    if (steps.compress || steps.aggregate) finishers.preload?.(steps);
  });

  const output = outputPathFor(naming, result.pid);
  const after = captureCandidates(output, options.followFork);
  const captures = [...after].filter(([path, version]) => before.get(path) !== version)
    .map(([path]) => path).sort();
  try {
    for (const capture of captures) {
      if (options.aggregate) await finishers.aggregate(capture);
      if (options.compress) await finishers.compress(capture);
    }
  } catch (error) {
    console.error(formatErrorLine(error));
    return result.code === 0 ? 1 : result.code;
  }
  if (result.signal !== null) console.error(killedLine(result.signal, output, captures));
  return result.code;
}

/** The one line said when a signal ended the program: what happened, and what was kept. */
export function killedLine(signal: Deno.Signal, output: string, captures: string[]): string {
  const kept = captures.includes(output)
    ? `the capture ${output} holds what it recorded until then`
    : "no capture was written";
  return `memray: the program was killed by ${signal}; ${kept}`;
}

/**
 * The run's capture and, with --follow-fork, its children's (`<output>.<pid>`, and
 * `<output>.<pid>.<pid>` for grandchildren), each with a version stamp (mtime and size). The run
 * wrote the ones that are new or changed: older files (kept after a failed start) are left alone.
 * Synchronous, as the checks in preflight.ts: this stands between the program and its start.
 */
function captureCandidates(output: string | undefined, followFork: boolean): Map<string, string> {
  const candidates = new Map<string, string>();
  if (output === undefined) return candidates;
  const stamp = (path: string) => {
    try {
      const info = Deno.statSync(path);
      if (info.isFile) candidates.set(path, `${info.mtime?.getTime()}:${info.size}`);
    } catch {
      // Not there: nothing to finish.
    }
  };
  stamp(output);
  if (!followFork) return candidates;
  const directory = pythonDirname(output);
  const prefix = `${pythonBasename(output)}.`;
  let entries: Deno.DirEntry[];
  try {
    entries = Array.from(Deno.readDirSync(directory === "" ? "." : directory));
  } catch (error) {
    throw new CliError(`Cannot list ${directory} for child captures: ${(error as Error).message}`);
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.startsWith(prefix)) continue;
    if (!/^(\.\d+)+$/.test(entry.name.slice(prefix.length - 1))) continue;
    stamp(pythonJoin(directory, entry.name));
  }
  return candidates;
}
