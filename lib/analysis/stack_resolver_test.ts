import assert from "node:assert/strict";
import { readCaptureBytes } from "../capture/reader.ts";
import type { ModuleMap } from "../capture/records.ts";
import { FLAG_NATIVE_TRACES } from "../capture/header.ts";
import { CaptureEncoder } from "../../tests/support/capture_encoder.ts";
import { BOOTSTRAP, locationTable } from "../../tests/support/fake_capture.ts";
import type { MergedFrame, NativeFrameLike } from "./merged_stacks.ts";
import { StackResolver, type SymbolizerLike } from "./stack_resolver.ts";

const PYTHON_ID = new Uint8Array(20).fill(0xaa);
const EXT_ID = new Uint8Array(20).fill(0xbb);
const PY_BASE = 0x400000;
const EXT_BASE = 0x7000000;

/** A native capture: main thread ext.c foo->bar->baz under py_caller, a Python-less worker. */
function capture(flags = FLAG_NATIVE_TRACES) {
  const enc = new CaptureEncoder({
    flags,
    python_hexversion: 0x030b07f0,
    metadata: { python_version: "3.11.7", main_thread_id: 1, bootstrap_file: BOOTSTRAP },
  });
  enc.sampler.modules(1, [
    {
      path: "/usr/bin/python3",
      load_base: PY_BASE,
      build_id: PYTHON_ID,
      segments: [{ vaddr: 0, memsz: 0x10000 }],
    },
    {
      path: "/app/ext.so",
      load_base: EXT_BASE,
      build_id: EXT_ID,
      segments: [{ vaddr: 0, memsz: 0x1000 }],
    },
  ]);
  const main = enc.thread(1);
  main.code({
    code_id: 1,
    first_line: 1,
    name: "<module>",
    filename: BOOTSTRAP,
    linetable: locationTable([0]),
  });
  main.code({
    code_id: 2,
    first_line: 1,
    name: "<module>",
    filename: "/app/x.py",
    linetable: locationTable([19]),
  });
  main.code({
    code_id: 3,
    first_line: 10,
    name: "py_caller",
    filename: "/app/x.py",
    linetable: locationTable([2]),
  });
  main.pyStack(0, [
    { code_id: 1, instr_offset_bytes: 0, is_entry: true },
    { code_id: 2, instr_offset_bytes: 0, is_entry: true },
    { code_id: 3, instr_offset_bytes: 0, is_entry: true },
  ]);
  // Return addresses, outermost first: main, loop (bootstrap), loop (x.py), vectorcall, loop
  // (py_caller), foo, bar, baz.
  const loop = PY_BASE + 0x201;
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
  worker.nativeStack(0, [EXT_BASE + 0x11, EXT_BASE + 0x21, 0x9999999]);
  worker.alloc(0x04, 0x6000, 64);
  return readCaptureBytes(enc.finish(), "fake.bin");
}

const SYMBOLS: Record<string, NativeFrameLike[]> = {
  "/usr/bin/python3:0x100": [{ function: "main", file: "Programs/python.c", line: 15 }],
  "/usr/bin/python3:0x200": [{
    function: "_PyEval_EvalFrameDefault",
    file: "Python/ceval.c",
    line: 4000,
  }],
  "/usr/bin/python3:0x300": [{
    function: "_PyFunction_Vectorcall",
    file: "Objects/call.c",
    line: 300,
  }],
  "/app/ext.so:0x10": [{ function: "foo", file: "ext.c", line: 20 }],
  "/app/ext.so:0x20": [{ function: "bar", file: "ext.c", line: 15 }],
  "/app/ext.so:0x30": [
    { function: "inlined_helper", file: "ext.h", line: 5, inlined: true },
    { function: "baz", file: "ext.c", line: 10 },
  ],
};

class FakeSymbolizer implements SymbolizerLike {
  calls: string[] = [];
  debug_files: [string, string][] = [];
  closed = false;
  return_address_flags: (boolean | undefined)[] = [];
  symbolize(
    module: ModuleMap,
    offset: number,
    options?: { is_return_address?: boolean },
  ): NativeFrameLike[] {
    const key = `${module.path}:0x${offset.toString(16)}`;
    this.calls.push(key);
    this.return_address_flags.push(options?.is_return_address);
    return (SYMBOLS[key] ?? []).map((f) => ({ ...f, module: module.path }));
  }
  moduleInfo(module: ModuleMap) {
    const has = module.path !== "/app/ext.so";
    return { has_symbols: true, has_debug_info: has };
  }
  addDebugFile(build_id: string, path: string): void {
    this.debug_files.push([build_id, path]);
  }
  close(): void {
    this.closed = true;
  }
}

const show = (frames: MergedFrame[]) =>
  frames.map((f) => `${f.kind === "python" ? "py" : "c"}:${f.function} ${f.file}:${f.line}`);

Deno.test("native capture: merged stack, inlined frames, launcher and CPython frames cut", async () => {
  const cap = capture();
  const symbolizer = new FakeSymbolizer();
  const resolver = await StackResolver.open(cap, { symbolizer, debuginfod: false });
  assert.equal(resolver.native, true);
  const first = resolver.eventFrames(0);
  assert.deepEqual(show(first), [
    "c:inlined_helper ext.h:5",
    "c:baz ext.c:10",
    "c:bar ext.c:15",
    "c:foo ext.c:20",
    "py:py_caller /app/x.py:12",
    "py:<module> /app/x.py:20",
  ]);
  // Return address 0x31 is looked up at 0x30 (ip - 1 - load_base), passed as an exact address:
  // the symbolizer must not step back a second time.
  assert.ok(symbolizer.calls.includes("/app/ext.so:0x30"), symbolizer.calls.join(" "));
  assert.ok(symbolizer.return_address_flags.length > 0);
  assert.ok(symbolizer.return_address_flags.every((flag) => flag === false));
  assert.equal(first[0].module, "/app/ext.so");
  // A thread without Python frames keeps its native stack; an address in no module is unknown.
  assert.deepEqual(show(resolver.eventFrames(1)), [
    "c:<unknown> <unknown>:0",
    "c:bar ext.c:15",
    "c:foo ext.c:20",
  ]);
  // Each distinct address is symbolized once, at the call site (return address - 1).
  const calls = symbolizer.calls.length;
  assert.equal(new Set(symbolizer.calls).size, calls);
  resolver.eventFrames(0);
  resolver.frames(cap.events.py_stack[0], cap.events.native_stack[0], 1);
  assert.equal(symbolizer.calls.length, calls);
  resolver.close();
  assert.ok(symbolizer.closed);
});

Deno.test("keep_cpython_internal keeps the interpreter's own frames", async () => {
  const resolver = await StackResolver.open(capture(), {
    symbolizer: new FakeSymbolizer(),
    debuginfod: false,
    keep_cpython_internal: true,
  });
  const names = resolver.eventFrames(0).map((f) => f.function);
  assert.deepEqual(names, [
    "inlined_helper",
    "baz",
    "bar",
    "foo",
    "py_caller",
    "_PyFunction_Vectorcall",
    "<module>",
  ]);
});

Deno.test("Python-only: without --native (or a non-native capture) stacks are Python frames", async () => {
  const symbolizer = new FakeSymbolizer();
  const off = await StackResolver.open(capture(), { native: false, symbolizer });
  assert.equal(off.native, false);
  assert.deepEqual(show(off.eventFrames(0)), [
    "py:py_caller /app/x.py:12",
    "py:<module> /app/x.py:20",
  ]);
  assert.deepEqual(off.eventFrames(1), []);
  const plain = await StackResolver.open(capture(0), { symbolizer });
  assert.equal(plain.native, false);
  assert.deepEqual(symbolizer.calls, []);
});

Deno.test("debuginfod is asked only for used modules without debug info", async () => {
  const requests: string[] = [];
  const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const ext_hex = "bb".repeat(20);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    return path === `/buildid/${ext_hex}/debuginfo`
      ? new Response(elf)
      : new Response("", { status: 404 });
  });
  const cache_dir = await Deno.makeTempDir();
  try {
    const symbolizer = new FakeSymbolizer();
    const resolver = await StackResolver.open(capture(), {
      symbolizer,
      debuginfod: { urls: [`http://127.0.0.1:${server.addr.port}`], cache_dir, warn: () => {} },
    });
    assert.deepEqual(requests, [`/buildid/${ext_hex}/debuginfo`]);
    assert.deepEqual(symbolizer.debug_files, [[ext_hex, `${cache_dir}/${ext_hex}/debuginfo`]]);
    assert.deepEqual(resolver.usedModules().map((m) => m.path).sort(), [
      "/app/ext.so",
      "/usr/bin/python3",
    ]);
  } finally {
    await server.shutdown();
    await Deno.remove(cache_dir, { recursive: true });
  }
});

Deno.test("a library whose module map was written after its first events is still found", async () => {
  const enc = new CaptureEncoder({
    flags: FLAG_NATIVE_TRACES,
    python_hexversion: 0x030b07f0,
    metadata: {},
  });
  const ext = {
    path: "/app/ext.so",
    load_base: EXT_BASE,
    build_id: EXT_ID,
    segments: [{ vaddr: 0, memsz: 0x1000 }],
  };
  enc.sampler.modules(1, []);
  const worker = enc.thread(2);
  worker.nativeStack(0, [EXT_BASE + 0x11, EXT_BASE + 0x21]);
  worker.alloc(0x01, 0x6000, 64);
  enc.sampler.modules(2, [ext]);
  const cap = readCaptureBytes(enc.finish(), "late.bin");
  assert.equal(cap.module_maps.length, 2);
  const resolver = await StackResolver.open(cap, {
    symbolizer: new FakeSymbolizer(),
    debuginfod: false,
  });
  assert.deepEqual(show(resolver.eventFrames(0)), ["c:bar ext.c:15", "c:foo ext.c:20"]);
});
