/** Finding the real Python interpreter to preload the engine into. */
import { CliError } from "../cli/errors.ts";
import { resolvePyenvShim } from "./pyenv.ts";

/** Where to look for the interpreter. */
export interface PythonLookup {
  /** `--python PATH` (a path, or a command name searched on PATH). */
  requested?: string;
  /** The PATH to search; defaults to the process's PATH. */
  searchPath?: string;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/**
 * Resolves the interpreter to run. A binary is used as found (so a venv's `bin/python` keeps its
 * venv); a pyenv shim is resolved the way pyenv would (lib/run/pyenv.ts); anything else is asked
 * once for `sys.executable`, so that the preloaded engine goes into the real interpreter and
 * never into the shim's helpers.
 */
export async function resolvePython(lookup: PythonLookup = {}): Promise<string> {
  const name = lookup.requested ?? "python3";
  const searchPath = lookup.searchPath ?? Deno.env.get("PATH") ?? "";
  const found = name.includes("/") ? checkExecutable(name) : searchOnPath(name, searchPath);
  if (found === undefined) {
    throw new CliError(
      lookup.requested === undefined
        ? "Cannot find python3 on PATH: install Python 3 or pass --python PATH"
        : `Cannot find the Python interpreter ${name}: no such executable file`,
    );
  }
  if (isElf(found)) return found;
  const pyenvTarget = resolvePyenvShim(found);
  if (pyenvTarget !== undefined && isElf(pyenvTarget)) return pyenvTarget;
  return await askForExecutable(found);
}

function searchOnPath(name: string, searchPath: string): string | undefined {
  const directories = searchPath.split(":").filter((directory) => directory !== "");
  for (const directory of directories) {
    const found = checkExecutable(`${directory}/${name}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

// Synchronous file operations, as in preflight.ts: this runs before the program can start.
function checkExecutable(path: string): string | undefined {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) return undefined;
  } catch {
    return undefined;
  }
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function isElf(path: string): boolean {
  const file = Deno.openSync(path, { read: true });
  try {
    const head = new Uint8Array(4);
    const count = file.readSync(head);
    return count === 4 && ELF_MAGIC.every((byte, index) => head[index] === byte);
  } finally {
    file.close();
  }
}

async function askForExecutable(launcher: string): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(launcher, {
      args: ["-c", "import sys; print(sys.executable)"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new CliError(
      `Cannot run the Python interpreter ${launcher}: ${(error as Error).message}`,
    );
  }
  const decoder = new TextDecoder();
  const executable = decoder.decode(output.stdout).trim();
  if (!output.success || !executable.startsWith("/")) {
    const reason = decoder.decode(output.stderr).trim().split("\n").pop() ||
      `exit status ${output.code}`;
    throw new CliError(`Cannot run the Python interpreter ${launcher}: ${reason}`);
  }
  return executable;
}
