/** Starting the real interpreter with the engine preloaded and waiting for it. */
import { CliError } from "../cli/errors.ts";
import { forwardSignals } from "./signals.ts";

/** The bootstrap's configuration (argv[1] of bootstrap.py, as JSON). */
export interface BootstrapConfig {
  mode: "file" | "module" | "command";
  target: string;
  output?: string;
  default_output_dir: string;
  default_output_stem: string;
  force: boolean;
  quiet: boolean;
  native: boolean;
  trace_python_allocators: boolean;
  follow_fork: boolean;
  /** With follow_fork: the directory of the start hook for exec'd Python children. */
  follow_hook_dir?: string;
  hint_command: string;
  tool: string;
}

/** Everything needed to start the profiled process. */
export interface LaunchSpec {
  python: string;
  bootstrap: string;
  nativeLib: string;
  config: BootstrapConfig;
  scriptArgs: string[];
  /** The environment to start from; defaults to this process's. */
  baseEnv?: Record<string, string>;
}

/** How the profiled process ended. */
export interface LaunchResult {
  pid: number;
  /** The exit status, or 128 + signal number when a signal ended it. */
  code: number;
  signal: Deno.Signal | null;
}

/**
 * The child's environment: the engine first in LD_PRELOAD (so its hooks come before any
 * allocator the user preloads), the user's own LD_PRELOAD kept both in the list and in
 * MEMRAYD_PRELOAD_RESTORE, which the engine puts back so that programs the child execs do not
 * inherit the profiler.
 */
export function childEnv(
  nativeLib: string,
  followFork: boolean,
  baseEnv: Record<string, string>,
): Record<string, string> {
  const env = { ...baseEnv };
  const userPreload = env.LD_PRELOAD ?? "";
  env.LD_PRELOAD = userPreload === "" ? nativeLib : `${nativeLib} ${userPreload}`;
  env.MEMRAYD_PRELOAD_RESTORE = userPreload;
  if (followFork) env.MEMRAYD_FOLLOW_FORK = "1";
  else delete env.MEMRAYD_FOLLOW_FORK;
  return env;
}

/** Starts the profiled process with inherited stdio; `onSpawn` gets its pid at once. */
export async function launch(
  spec: LaunchSpec,
  onSpawn: (pid: number) => void = () => {},
): Promise<LaunchResult> {
  const command = new Deno.Command(spec.python, {
    args: [spec.bootstrap, JSON.stringify(spec.config), ...spec.scriptArgs],
    env: childEnv(spec.nativeLib, spec.config.follow_fork, spec.baseEnv ?? Deno.env.toObject()),
    clearEnv: true,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  });
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (error) {
    throw new CliError(`Cannot start ${spec.python}: ${(error as Error).message}`);
  }
  const stopForwarding = forwardSignals(child);
  try {
    onSpawn(child.pid);
    const status = await child.status;
    return { pid: child.pid, code: status.code, signal: status.signal };
  } finally {
    stopForwarding();
  }
}
