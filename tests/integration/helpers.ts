/**
 * Shared pieces of the end-to-end tests: the real `memray run` CLI on real interpreters, a C
 * allocator helper the profiled scripts call through ctypes, and queries over a read capture.
 */
import { type Capture, readCapture } from "../../lib/capture/reader.ts";
import { type PythonFrame } from "../../lib/capture/python_stacks.ts";
import { isAllocation, REC_FREE } from "../../lib/capture/records.ts";
import { buildSharedLibrary, exists } from "../support/files.ts";
import { runWithEnvironment } from "../support/process.ts";

export { exists };

/** The project root. */
export const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");
const ENGINE = `${ROOT}/zig-out/lib/libmemrayd.so`;
const ZIG = `${ROOT}/.tools/bin/zig`;
const HELPER_SOURCE = `${ROOT}/tests/integration/fixtures/alloc_helper.c`;

/** Every interpreter the tool supports on this machine (reference §9 item 12 runs on each). */
export const PYTHONS: string[] = [
  "/root/.pyenv/versions/3.9.18/bin/python3.9",
  "/root/.pyenv/versions/3.10.13/bin/python3.10",
  "/root/.pyenv/versions/3.11.7/bin/python3.11",
  "/root/.pyenv/versions/3.12.1/bin/python3.12",
  "/root/.pyenv/versions/3.13.0/bin/python3.13",
  "/usr/bin/python3.11",
];

/** The interpreter used where the version does not matter. */
export const PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12";

/** Allocator record type bytes (docs/capture-format.md). */
export const KIND = {
  malloc: 0x01,
  calloc: 0x02,
  realloc: 0x03,
  posix_memalign: 0x04,
  aligned_alloc: 0x05,
  memalign: 0x06,
  valloc: 0x07,
  pvalloc: 0x08,
  mmap: 0x09,
  pymalloc_malloc: 0x0a,
  pymalloc_calloc: 0x0b,
  pymalloc_realloc: 0x0c,
  free: 0x11,
  munmap: 0x12,
  pymalloc_free: 0x13,
} as const;

/** How a finished process ended and what it wrote. */
export interface Finished {
  code: number;
  signal: Deno.Signal | null;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** `stdout` decoded. */
  out: string;
  /** `stderr` decoded. */
  err: string;
}

/** Options for {@link runProcess}. */
export interface ProcessOptions {
  cwd?: string;
  stdin?: Uint8Array | string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

const decoder = new TextDecoder();

/** Runs a program to completion with a clean environment (no preload, no colours). */
export async function runProcess(
  program: string,
  args: string[],
  options: ProcessOptions = {},
): Promise<Finished> {
  const env = Deno.env.toObject();
  delete env.LD_PRELOAD;
  delete env.MEMRAY_DENO_LIB;
  delete env.MEMRAYD_FOLLOW_FORK;
  delete env.MEMRAYD_PRELOAD_RESTORE;
  env.NO_COLOR = "1";
  Object.assign(env, options.env ?? {});
  const output = await runWithEnvironment(program, args, { ...options, env });
  return {
    code: output.code,
    signal: output.signal,
    stdout: output.stdout,
    stderr: output.stderr,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

let engine_ready: Promise<void> | undefined;

/** Builds the engine (ReleaseFast, as scripts/setup.sh does) when it is missing. */
export function ensureEngine(): Promise<void> {
  engine_ready ??= (async () => {
    if (await exists(ENGINE)) return;
    const built = await runProcess(ZIG, ["build", "-Doptimize=ReleaseFast"], { cwd: ROOT });
    if (built.code !== 0) throw new Error(`zig build failed:\n${built.err}`);
  })();
  return engine_ready;
}

/** Runs the real CLI: `deno run -A main.ts ARGS`. */
export async function memray(args: string[], options: ProcessOptions = {}): Promise<Finished> {
  await ensureEngine();
  return await runProcess(Deno.execPath(), ["run", "-A", `${ROOT}/main.ts`, ...args], options);
}

let helper_path: Promise<string> | undefined;

/**
 * The allocator helper (fixtures/alloc_helper.c) as a shared library, built once per source
 * version into the temp directory (write then rename: test files may run in parallel).
 */
export function helperLibrary(): Promise<string> {
  helper_path ??= buildSharedLibrary({
    source: HELPER_SOURCE,
    flags: [
      "-shared",
      "-fPIC",
      "-O1",
      "-fno-builtin",
      // Keep every helper function on the stack (no tail calls) so native stacks show it.
      "-fno-optimize-sibling-calls",
      "-fno-omit-frame-pointer",
    ],
    name: "memray-alloc-helper",
  });
  return helper_path;
}

/**
 * Python lines that load the helper as `lib` (path in `$MEMRAY_TEST_HELPER`) with pointer
 * return types, and `vp`, `emit(**facts)` printing one JSON line of facts for the test.
 */
export const PRELUDE = `import ctypes, json, os, sys
vp = ctypes.c_void_p
lib = ctypes.CDLL(os.environ["MEMRAY_TEST_HELPER"])
for _name in ("h_malloc", "h_calloc", "h_realloc", "h_posix_memalign", "h_aligned_alloc",
              "h_memalign", "h_valloc", "h_pvalloc", "h_mmap", "h_mmap64", "h_malloc_in_pthread"):
    getattr(lib, _name).restype = vp
lib.h_calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
lib.h_realloc.argtypes = [vp, ctypes.c_size_t]
for _name in ("h_posix_memalign", "h_aligned_alloc", "h_memalign"):
    getattr(lib, _name).argtypes = [ctypes.c_size_t, ctypes.c_size_t]
for _name in ("h_malloc", "h_valloc", "h_pvalloc", "h_mmap", "h_mmap64", "h_malloc_in_pthread"):
    getattr(lib, _name).argtypes = [ctypes.c_size_t]
lib.h_free.argtypes = [vp]
lib.h_munmap.argtypes = [vp, ctypes.c_size_t]
lib.h_malloc_free_loop.argtypes = [ctypes.c_size_t, ctypes.c_int]
def emit(**facts):
    sys.stdout.write("FACTS " + json.dumps(facts) + "\\n")
    sys.stdout.flush()
`;

/** The environment a script using {@link PRELUDE} needs. */
export async function helperEnv(): Promise<Record<string, string>> {
  return { MEMRAY_TEST_HELPER: await helperLibrary() };
}

/** Options of {@link runScript}. */
export interface ScriptOptions {
  /** `memray run` flags, before `-o`. */
  flags?: string[];
  /** The script's own arguments. */
  args?: string[];
  /** The interpreter; default {@link PYTHON}. */
  python?: string;
}

/**
 * Writes `source` to `dir/name` and runs `memray run -q FLAGS -o dir/out.bin --python PYTHON name
 * ARGS` in `dir`, with the allocator helper its {@link PRELUDE} loads.
 */
export async function runScript(
  dir: string,
  name: string,
  source: string,
  options: ScriptOptions = {},
): Promise<Finished> {
  await Deno.writeTextFile(`${dir}/${name}`, source);
  const { flags = [], args = [], python = PYTHON } = options;
  return await memray(
    ["run", "-q", ...flags, "-o", `${dir}/out.bin`, "--python", python, name, ...args],
    { cwd: dir, env: await helperEnv() },
  );
}

/** The facts a script printed with `emit(...)` (all such lines, in order). */
export function factsOf(result: Finished): Record<string, unknown>[] {
  return result.out.split("\n").filter((line) => line.startsWith("FACTS "))
    .map((line) => JSON.parse(line.slice("FACTS ".length)));
}

/** The 1-based line of `source` that ends with `marker` (exactly one must). */
export function lineOf(source: string, marker: string): number {
  const lines = source.split("\n");
  const found = lines.flatMap((line, i) => line.trimEnd().endsWith(marker) ? [i + 1] : []);
  if (found.length !== 1) throw new Error(`marker ${marker} is on ${found.length} lines`);
  return found[0];
}

/** A fresh real-path temporary directory, removed after `body`. */
export async function withTempDir<T>(body: (directory: string) => Promise<T>): Promise<T> {
  const directory = await Deno.realPath(await Deno.makeTempDir({ prefix: "memray-it-" }));
  try {
    return await body(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

/** One event of a capture with its resolved Python stack. */
export interface Event {
  index: number;
  seq: number;
  kind: number;
  addr: number;
  size: number;
  thread: number;
  /** Leaf first, launcher frames hidden on the main thread. */
  frames: PythonFrame[];
  native_stack: number;
}

/** The event at column `index` of `capture`. */
export function eventAt(capture: Capture, index: number): Event {
  const e = capture.events;
  const thread = e.thread[index];
  return {
    index,
    seq: e.seq[index],
    kind: e.kind[index],
    addr: e.addr[index],
    size: e.size[index],
    thread,
    frames: capture.python.frames(e.py_stack[index], thread === capture.main_thread_id),
    native_stack: e.native_stack[index],
  };
}

/** Allocations of `kind` and `size` bytes, in seq order. */
export function allocations(capture: Capture, kind: number, size: number): Event[] {
  const e = capture.events;
  const out: Event[] = [];
  for (let i = 0; i < e.count; i++) {
    if (e.kind[i] === kind && e.size[i] === size) out.push(eventAt(capture, i));
  }
  return out;
}

/** Allocations of any kind of `size` bytes. */
export function allocationsOfSize(capture: Capture, size: number): Event[] {
  const e = capture.events;
  const out: Event[] = [];
  for (let i = 0; i < e.count; i++) {
    if (isAllocation(e.kind[i]) && e.size[i] === size) out.push(eventAt(capture, i));
  }
  return out;
}

/**
 * Deallocations (`kind`) of `alloc`'s block: those of its address after it and before the next
 * allocation at that address (after which the address is another block's).
 */
export function blockFrees(capture: Capture, alloc: Event, kind: number = REC_FREE): Event[] {
  const e = capture.events;
  const out: Event[] = [];
  for (let i = alloc.index + 1; i < e.count; i++) {
    if (e.addr[i] !== alloc.addr) continue;
    if (isAllocation(e.kind[i])) break;
    if (e.kind[i] === kind) out.push(eventAt(capture, i));
  }
  return out;
}

/** Reads a capture through the TypeScript reader. */
export function read(path: string): Promise<Capture> {
  return readCapture(path);
}

/** `frames` as `function:line` strings, leaf first, for readable assertion messages. */
export function frameLines(frames: PythonFrame[]): string[] {
  return frames.map((f) => `${f.function}:${f.lineno}`);
}

/** Fails with the process's output when it did not exit with `code`. */
export function expectExit(result: Finished, code: number, what: string): void {
  if (result.code !== code) {
    throw new Error(
      `${what}: exit ${result.code} (signal ${result.signal}), expected ${code}\n` +
        `stdout:\n${result.out}\nstderr:\n${result.err}`,
    );
  }
}
