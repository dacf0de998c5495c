/**
 * A fake native capture and symbolizer for report-level unit tests: the main thread's
 * `<module> -> py_caller -> [ext.so] foo -> bar -> baz` (through the interpreter's eval loop and
 * call machinery) and a Python-less worker thread in ext.so.
 */
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import type { Capture } from "../../lib/capture/reader.ts";
import type { ModuleMap } from "../../lib/capture/records.ts";
import { FLAG_NATIVE_TRACES } from "../../lib/capture/header.ts";
import type { NativeFrameLike } from "../../lib/analysis/merged_stacks.ts";
import type { SymbolizerLike } from "../../lib/analysis/stack_resolver.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { BOOTSTRAP, locationTable } from "../support/fake_capture.ts";

const PY_BASE = 0x400000;
const EXT_BASE = 0x7000000;
export const PYTHON_PATH = "/usr/bin/python3.11";
export const EXT_PATH = "/app/ext.so";

/** Options of {@link fakeNativeCapture}. */
export interface FakeNativeOptions {
  /** A return address added innermost to the worker's stack (e.g. one in no module). */
  worker_extra_ip?: number;
}

/**
 * The capture: 100 bytes from baz (main thread), 64 bytes from the worker, 7 bytes from a
 * Python-only stack (no native stack). `flags` 0 gives the same events without native traces.
 */
export function fakeNativeCapture(
  flags = FLAG_NATIVE_TRACES,
  path = "fake.bin",
  options: FakeNativeOptions = {},
): Capture {
  return readCaptureBytes(fakeNativeCaptureBytes(flags, options), path);
}

/** The bytes of {@link fakeNativeCapture}'s file. */
export function fakeNativeCaptureBytes(
  flags = FLAG_NATIVE_TRACES,
  options: FakeNativeOptions = {},
): Uint8Array {
  const enc = new CaptureEncoder({
    flags,
    python_hexversion: 0x030b07f0,
    metadata: {
      python_version: "3.11.7",
      main_thread_id: 1,
      bootstrap_file: BOOTSTRAP,
      command_line: "x.py",
    },
  });
  enc.sampler.modules(1, [
    {
      path: PYTHON_PATH,
      load_base: PY_BASE,
      build_id: new Uint8Array(20).fill(0xaa),
      segments: [{ vaddr: 0, memsz: 0x10000 }],
    },
    {
      path: EXT_PATH,
      load_base: EXT_BASE,
      build_id: new Uint8Array(20).fill(0xbb),
      segments: [{ vaddr: 0, memsz: 0x1000 }],
    },
  ]);
  const main = enc.thread(1);
  const code = (code_id: number, name: string, filename: string, first: number, line: number) =>
    main.code({
      code_id,
      first_line: first,
      name,
      filename,
      linetable: locationTable([line - first]),
    });
  code(1, "<module>", BOOTSTRAP, 1, 1);
  code(2, "<module>", "/app/x.py", 1, 20);
  code(3, "py_caller", "/app/x.py", 10, 12);
  main.pyStack(0, [
    { code_id: 1, instr_offset_bytes: 0, is_entry: true },
    { code_id: 2, instr_offset_bytes: 0, is_entry: true },
    { code_id: 3, instr_offset_bytes: 0, is_entry: true },
  ]);
  const loop = PY_BASE + 0x201;
  // Return addresses, outermost first: main, loop (bootstrap), loop (x.py), vectorcall, loop
  // (py_caller), foo, bar, baz.
  main.nativeStack(0, [
    PY_BASE + 0x101,
    loop,
    loop,
    PY_BASE + 0x301,
    loop,
    EXT_BASE + 0x11,
    EXT_BASE + 0x21,
    EXT_BASE + 0x31,
  ]);
  main.alloc(0x01, 0x5000, 100);
  const worker = enc.thread(2);
  const extra = options.worker_extra_ip === undefined ? [] : [options.worker_extra_ip];
  worker.nativeStack(0, [EXT_BASE + 0x11, EXT_BASE + 0x21, ...extra]);
  worker.alloc(0x01, 0x6000, 64);
  main.nativeStack(8, []);
  main.alloc(0x01, 0x7000, 7);
  return enc.finish();
}

const SYMBOLS: Record<string, NativeFrameLike[]> = {
  [`${PYTHON_PATH}:0x100`]: [{ function: "main", file: "Programs/python.c", line: 15 }],
  [`${PYTHON_PATH}:0x200`]: [{
    function: "_PyEval_EvalFrameDefault",
    file: "Python/ceval.c",
    line: 4000,
  }],
  [`${PYTHON_PATH}:0x300`]: [{
    function: "_PyFunction_Vectorcall",
    file: "Objects/call.c",
    line: 300,
  }],
  [`${EXT_PATH}:0x10`]: [{ function: "foo", file: "/src/ext.c", line: 20 }],
  [`${EXT_PATH}:0x20`]: [{ function: "bar", file: "/src/ext.c", line: 15 }],
  [`${EXT_PATH}:0x30`]: [{ function: "baz", file: "/src/ext.c", line: 10 }],
};

/** What each module has, by path (default: symbols and debug info). */
export type ModuleSymbols = Record<string, { has_symbols: boolean; has_debug_info: boolean }>;

/**
 * A symbolizer over {@link SYMBOLS} (entries of `symbols`, keyed `<module path>:0x<offset>`,
 * replace them); records its calls, their `is_return_address`, the debug files it was given and
 * whether it was closed.
 */
export class FakeSymbolizer implements SymbolizerLike {
  calls: string[] = [];
  return_address_flags: (boolean | undefined)[] = [];
  debug_files: [string, string][] = [];
  closed = false;
  constructor(
    readonly modules: ModuleSymbols = {},
    readonly symbols: Record<string, NativeFrameLike[]> = {},
  ) {}
  symbolize(
    module: ModuleMap,
    offset: number,
    options?: { is_return_address?: boolean },
  ): NativeFrameLike[] {
    const key = `${module.path}:0x${offset.toString(16)}`;
    this.calls.push(key);
    this.return_address_flags.push(options?.is_return_address);
    const frames = this.symbols[key] ?? SYMBOLS[key] ?? [];
    return frames.map((f) => ({ ...f, module: module.path }));
  }
  moduleInfo(module: ModuleMap) {
    return this.modules[module.path] ?? { has_symbols: true, has_debug_info: true };
  }
  addDebugFile(build_id: string, path: string): void {
    this.debug_files.push([build_id, path]);
  }
  close(): void {
    this.closed = true;
  }
}
