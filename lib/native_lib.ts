/**
 * Locating the project's native libraries: the engine (`libmemrayd.so`, preloaded into the
 * profiled program) and the report library (`libmemrayd_report.so`, opened by lib/ffi.ts), and
 * turning files embedded in a `deno compile` binary into real files: neither a child process nor
 * `Deno.dlopen` can open the binary's embedded files, so they are copied to a content-hashed
 * cache path first.
 */
import { CliError } from "./cli/errors.ts";

/** One native library: its file name under `zig-out/lib/` and the variable that overrides it. */
export interface NativeLibSpec {
  /** File name, e.g. `libmemrayd.so`. */
  fileName: string;
  /** Environment variable naming the file to use instead, e.g. `MEMRAY_DENO_LIB`. */
  envName: string;
}

/** The engine library (LD_PRELOAD interposer). */
export const ENGINE_LIB: NativeLibSpec = { fileName: "libmemrayd.so", envName: "MEMRAY_DENO_LIB" };

/** The report-time library opened through FFI (lib/ffi.ts). */
export const REPORT_LIB: NativeLibSpec = {
  fileName: "libmemrayd_report.so",
  envName: "MEMRAY_DENO_REPORT_LIB",
};

/** The engine library's file name. */
export const NATIVE_LIB_NAME = ENGINE_LIB.fileName;

/** Where a native library may be, in the order they are tried. */
export interface NativeLibSources {
  /** The environment override (`MEMRAY_DENO_LIB`...): used as is, an error when it names no file. */
  envPath?: string;
  /** The local build, `zig-out/lib/<file>` under the project root (`deno run`). */
  localPath?: string;
  /** The copy embedded in a compiled binary, extracted under `cacheHome` before use. */
  embeddedPath?: string;
  /** `$XDG_CACHE_HOME` (or `~/.cache`): extracted copies go to `<cacheHome>/memray-deno/<sha256>/`. */
  cacheHome: string;
}

/** The project root, from this module's location (inside a compiled binary: its embedded root). */
export function projectRoot(): string {
  return decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
}

/** The cache root for extracted files. */
export function defaultCacheHome(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return xdg;
  const home = Deno.env.get("HOME");
  if (home) return `${home}/.cache`;
  return `/tmp/memray-deno-cache-${Deno.uid() ?? "user"}`;
}

/**
 * The sources of a library for this process: local build under `deno run`, embedded copy when
 * compiled (the engine by default).
 */
export function defaultNativeLibSources(spec: NativeLibSpec = ENGINE_LIB): NativeLibSources {
  const built = `${projectRoot()}/zig-out/lib/${spec.fileName}`;
  const compiled = Deno.build.standalone;
  return {
    envPath: Deno.env.get(spec.envName) || undefined,
    localPath: compiled ? undefined : built,
    embeddedPath: compiled ? built : undefined,
    cacheHome: defaultCacheHome(),
  };
}

/**
 * Returns a real path of a native library (the engine by default), or throws a CliError saying
 * how to get one.
 */
export async function locateNativeLib(
  sources?: NativeLibSources,
  spec: NativeLibSpec = ENGINE_LIB,
): Promise<string> {
  sources ??= defaultNativeLibSources(spec);
  if (sources.envPath !== undefined) {
    if (await isFile(sources.envPath)) return sources.envPath;
    throw new CliError(
      `Cannot find the native library: ${spec.envName} names ${sources.envPath}, which is not a file`,
    );
  }
  if (sources.localPath !== undefined && await isFile(sources.localPath)) return sources.localPath;
  if (sources.embeddedPath !== undefined && await isFile(sources.embeddedPath)) {
    return await materializeFile(sources.embeddedPath, spec.fileName, sources.cacheHome);
  }
  throw new CliError(
    `Cannot find the native library ${spec.fileName}: run scripts/setup.sh to build it ` +
      `(or set ${spec.envName})`,
  );
}

/**
 * Copies `sourcePath` (possibly inside a compiled binary) to
 * `<cacheHome>/memray-deno/<sha256 of content>/<fileName>` unless an intact copy is there, by
 * writing a temporary file and renaming it, so concurrent runs never see half a file.
 */
export async function materializeFile(
  sourcePath: string,
  fileName: string,
  cacheHome: string,
): Promise<string> {
  const bytes = await Deno.readFile(sourcePath);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const directory = `${cacheHome}/memray-deno/${hash}`;
  const target = `${directory}/${fileName}`;
  try {
    if ((await Deno.stat(target)).size === bytes.length) return target;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(directory, { recursive: true });
  const temporary = `${target}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    await Deno.writeFile(temporary, bytes, { mode: 0o755 });
    await Deno.rename(temporary, target);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new CliError(`Cannot extract ${fileName} to ${directory}: ${(error as Error).message}`);
  }
  return target;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
