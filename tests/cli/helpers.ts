/** Running the real `memray` CLI (deno run main.ts) on real Python programs in tests. */
import { buildSharedLibrary, exists } from "../support/files.ts";
import { runWithEnvironment } from "../support/process.ts";

export { exists };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

/** The project root. */
export const PROJECT_ROOT = ROOT;

/** The engine built by scripts/setup.sh, when it exists. */
export const REAL_ENGINE = `${ROOT}/zig-out/lib/libmemrayd.so`;

/** What a finished command printed and how it ended. */
export interface CommandResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for one CLI run. */
export interface RunOptions {
  cwd?: string;
  stdin?: string;
  /** Extra environment; a value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
}

const decoder = new TextDecoder();

function environment(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.MEMRAY_DENO_LIB;
  delete env.LD_PRELOAD;
  env.NO_COLOR = "1";
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs any program to completion. */
export async function runProgram(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const output = await runWithEnvironment(program, args, {
    cwd: options.cwd,
    stdin: options.stdin,
    env: environment(options.env),
  });
  return {
    code: output.code,
    signal: output.signal,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The arguments that start the CLI under the current Deno. */
export function memrayCommand(args: string[]): [string, string[]] {
  return [Deno.execPath(), ["run", "-A", `${ROOT}/main.ts`, ...args]];
}

/** Runs `memray ARGS` with the engine at `engine` (MEMRAY_DENO_LIB). */
export async function runMemray(
  args: string[],
  options: RunOptions & { engine?: string } = {},
): Promise<CommandResult> {
  const [program, fullArgs] = memrayCommand(args);
  const env = { ...(options.engine ? { MEMRAY_DENO_LIB: options.engine } : {}), ...options.env };
  return await runProgram(program, fullArgs, { ...options, env });
}

let pythonPromise: Promise<string> | undefined;

/** The real interpreter behind `python3` on PATH (what `memray run` picks by default). */
export function realPython(): Promise<string> {
  pythonPromise ??= (async () => {
    const result = await runProgram("python3", ["-c", "import sys; print(sys.executable)"]);
    if (result.code !== 0) throw new Error(`python3 failed: ${result.stderr}`);
    return result.stdout.trim();
  })();
  return pythonPromise;
}

let stubPromise: Promise<string> | undefined;

/**
 * A stand-in engine with the same C ABI (fixtures/stub_engine.c), built with the project's zig,
 * so the launch mechanics are tested even before the real engine exists. Built once per source
 * version into the temp directory (write-then-rename, as test files run in parallel).
 */
export function stubEngine(): Promise<string> {
  stubPromise ??= buildSharedLibrary({
    source: `${ROOT}/tests/cli/fixtures/stub_engine.c`,
    flags: ["-shared", "-fPIC", "-O1"],
    name: "memray-stub-engine",
  });
  return stubPromise;
}

/** The engines to test the CLI with: the stub always, the real one when it is built. */
export async function enginesUnderTest(): Promise<{ name: string; path: string }[]> {
  const engines = [{ name: "stub engine", path: await stubEngine() }];
  if (await exists(REAL_ENGINE)) engines.push({ name: "real engine", path: REAL_ENGINE });
  else {console.log(
      `note: ${REAL_ENGINE} is missing (run scripts/setup.sh); real-engine cases skipped`,
    );}
  return engines;
}

/** A fresh temporary directory holding `files` (name → content), removed after `body`. */
export async function withScripts(
  files: Record<string, string>,
  body: (directory: string) => Promise<void>,
): Promise<void> {
  const directory = await Deno.realPath(await Deno.makeTempDir({ prefix: "memray-cli-" }));
  try {
    for (const [name, content] of Object.entries(files)) {
      const path = `${directory}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, content);
    }
    await body(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

/** Asserts the shape every CLI error has: one line `memray: ...`, no stack trace. */
export function oneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  if (lines.length !== 1 || !lines[0].startsWith("memray: ")) {
    throw new Error(`expected one "memray: ..." line on stderr, got:\n${stderr}`);
  }
  return lines[0];
}
