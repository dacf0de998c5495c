/**
 * Fixtures of the `--native` end-to-end tests: the C extension (built against one interpreter's
 * headers), the thread library, the profiled script, and lines of the sources by marker.
 */
import { buildSharedLibrary, FIXTURE_LIBRARY_FLAGS } from "../support/files.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const FIXTURES = `${ROOT}/tests/native_symbols/fixtures`;

/** The sources, for their marked lines. */
export const EXT_SOURCE = `${FIXTURES}/native_ext.c`;
export const THREADS_SOURCE = `${FIXTURES}/native_threads.c`;

const decoder = new TextDecoder();

/** The include directory of `python` (sysconfig), where Python.h is. */
export async function pythonInclude(python: string): Promise<string> {
  const out = await new Deno.Command(python, {
    args: ["-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`${python}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout).trim();
}

/** Copies the extension built for `python` into `dir` as `native_ext.so` (importable). */
export async function installExtension(python: string, dir: string): Promise<string> {
  const include = await pythonInclude(python);
  const built = await buildSharedLibrary({
    source: EXT_SOURCE,
    flags: [...FIXTURE_LIBRARY_FLAGS, `-I${include}`],
    name: "memray-native-ext",
  });
  const target = `${dir}/native_ext.so`;
  await Deno.copyFile(built, target);
  return target;
}

/** The thread library (no Python), built once. */
export function threadsLibrary(): Promise<string> {
  return buildSharedLibrary({
    source: THREADS_SOURCE,
    flags: [...FIXTURE_LIBRARY_FLAGS, "-lpthread"],
    name: "memray-native-threads",
  });
}

/** The 1-based line of a C source holding `LINE:marker`. */
export async function cLine(source: string, marker: string): Promise<number> {
  const lines = (await Deno.readTextFile(source)).split("\n");
  const found = lines.flatMap((line, i) => line.includes(`LINE:${marker} `) ? [i + 1] : []);
  if (found.length !== 1) {
    throw new Error(`LINE:${marker} is on ${found.length} lines of ${source}`);
  }
  return found[0];
}

/** Sizes that single out each fixture's allocations in a capture. */
export const SIZES = {
  py_caller: 123_457,
  recursion: 98_765,
  stripped: 54_321,
  thread_block: 4104,
} as const;

/**
 * The profiled script: `py_caller` calls the extension (line 12), `<module>` calls `py_caller`
 * (line 20), a 4-deep recursion calls it, and optionally 100 native threads x 100
 * posix_memalign and the stripped library. Paths come from the environment.
 */
export const SCRIPT = `import ctypes, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import native_ext


def recursive_func(n):
    if n == 1:
        return native_ext.run(${SIZES.recursion})  # CALL:recursion_leaf
    return recursive_func(n - 1)  # CALL:recursion

def py_caller():
    native_ext.run(${SIZES.py_caller})  # CALL:py_caller
    return 1


recursive_func(4)  # CALL:recursion_root
if os.environ.get("RUN_THREADS"):
    threads = ctypes.CDLL(os.environ["RUN_THREADS"])
    assert threads.run_threads(100, 100) == 100
py_caller()  # CALL:module
if os.environ.get("RUN_STRIPPED"):
    stripped = ctypes.CDLL(os.environ["RUN_STRIPPED"])
    stripped.stripped_entry.restype = ctypes.c_void_p
    stripped.stripped_entry.argtypes = [ctypes.c_size_t]
    stripped.stripped_entry(${SIZES.stripped - 2})  # CALL:stripped
`;
