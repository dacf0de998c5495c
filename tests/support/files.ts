/**
 * Files the tests need: whether a path exists, a capture's bytes in a temp file for the length of
 * a test, and shared libraries built from C fixtures with the project's zig.
 */

import { exists } from "../../reporters/output_file.ts";

export { exists };

/**
 * Writes `bytes` to a new temp file (`.bin`), runs `f` on its path and removes the file after,
 * whether `f` succeeds or throws; returns what `f` returns.
 */
export async function withFile<T>(
  bytes: Uint8Array,
  f: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    await Deno.writeFile(path, bytes);
    return await f(path);
  } finally {
    await Deno.remove(path);
  }
}

/**
 * `zig cc` flags of the C fixture libraries: shared, with DWARF lines and a GNU build-id, every
 * function kept on the stack (no sibling calls, frame pointers kept).
 */
export const FIXTURE_LIBRARY_FLAGS: readonly string[] = [
  "-g",
  "-O1",
  "-fPIC",
  "-shared",
  "-fno-optimize-sibling-calls",
  "-fno-omit-frame-pointer",
  "-Wl,--build-id=sha1",
];

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const ZIG = `${ROOT}/.tools/bin/zig`;

/** Options of {@link buildSharedLibrary}. */
export interface SharedLibraryOptions {
  /** The C source file. */
  source: string;
  /** `zig cc` flags besides `-o`. */
  flags: string[];
  /** Names the library in the temp directory: `<name>-<hash>.so`. */
  name: string;
}

/**
 * Builds `source` into a shared library with `zig cc`, once per source and flags version, into
 * the temp directory (write then rename: test files may run in parallel); returns its path.
 * Keyed by the source's bytes, path and the flags.
 */
export async function buildSharedLibrary(options: SharedLibraryOptions): Promise<string> {
  const source = await Deno.readFile(options.source);
  // The source's path is part of the key: DWARF records it, and tests compare frames' files with
  // the checkout they run from (two checkouts on one machine must not share a build).
  const words = new TextEncoder().encode(`${options.source}\0${options.flags.join(" ")}`);
  const keyed = new Uint8Array([...source, ...words]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", keyed));
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  const output = `${Deno.env.get("TMPDIR") ?? "/tmp"}/${options.name}-${hash}.so`;
  if (await exists(output)) return output;
  const temporary = `${output}.${Deno.pid}.tmp`;
  const built = await new Deno.Command(ZIG, {
    args: ["cc", ...options.flags, "-o", temporary, options.source],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (built.code !== 0) {
    const err = new TextDecoder().decode(built.stderr);
    throw new Error(`building ${options.name} from ${options.source} failed:\n${err}`);
  }
  await Deno.rename(temporary, output);
  return output;
}
