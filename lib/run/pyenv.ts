/**
 * Resolving a pyenv shim to the interpreter it would run, without running it: running the bash
 * shim costs about half a second. pyenv's own order (pyenv-version-name): `PYENV_VERSION`, then
 * the nearest `.python-version` from the working directory upward, then `$PYENV_ROOT/version`,
 * then "system". Whatever is not plainly one installed version is left to the shim itself.
 * Synchronous file operations throughout: this runs before the profiled program can start, and
 * each asynchronous operation is a round trip through Deno's blocking thread pool.
 */

/** Where the shim resolution looks; every field defaults to this process's. */
export interface ShimContext {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const ROOT_LINE = /^export PYENV_ROOT="([^"]+)"$/m;
const SHIM_EXEC = /exec "[^"]*\/libexec\/pyenv" exec "\$program" "\$@"/;
const SHIM_MAX_BYTES = 4096;

/**
 * The interpreter a pyenv shim at `shim` would run, or undefined when this cannot be decided
 * here (not a shim, "system", a version prefix, several versions, a missing file...).
 */
export function resolvePyenvShim(
  shim: string,
  context: ShimContext = {},
): string | undefined {
  const text = readHead(shim);
  if (text === undefined || !SHIM_EXEC.test(text)) return undefined;
  const root = ROOT_LINE.exec(text)?.[1];
  if (root === undefined) return undefined;
  const env = context.env ?? Deno.env.toObject();
  const versions = env.PYENV_VERSION !== undefined && env.PYENV_VERSION !== ""
    ? env.PYENV_VERSION.split(":")
    : versionsFromFiles(root, env.PYENV_DIR ?? context.cwd ?? Deno.cwd());
  if (versions === undefined || versions.length !== 1) return undefined;
  const [version] = versions;
  if (version === "system" || version.includes("/") || version.startsWith(".")) return undefined;
  const name = shim.slice(shim.lastIndexOf("/") + 1);
  const candidate = `${root}/versions/${version}/bin/${name}`;
  try {
    const info = Deno.statSync(candidate);
    if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) return undefined;
  } catch {
    return undefined;
  }
  return candidate;
}

function versionsFromFiles(root: string, start: string): string[] | undefined {
  let directory = start.replace(/\/+$/, "") || "/";
  for (let depth = 0; depth < 256; depth += 1) {
    const found = readVersionFile(`${directory === "/" ? "" : directory}/.python-version`);
    if (found !== undefined) return found;
    if (directory === "/") break;
    directory = directory.slice(0, directory.lastIndexOf("/")) || "/";
  }
  return readVersionFile(`${root}/version`);
}

/** The versions a pyenv version file names (one per word, `#` comments), if it exists. */
function readVersionFile(path: string): string[] | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
  const words = text.split("\n").map((line) => line.replace(/#.*/, "").trim())
    .flatMap((line) => line.split(/\s+/)).filter((word) => word !== "");
  return words.length === 0 ? undefined : words;
}

function readHead(path: string): string | undefined {
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const buffer = new Uint8Array(SHIM_MAX_BYTES);
      const count = file.readSync(buffer);
      return new TextDecoder().decode(buffer.subarray(0, count ?? 0));
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
}
