import assert from "node:assert/strict";
import { readCaptureBytes } from "../capture/reader.ts";
import { FLAG_NATIVE_TRACES } from "../capture/header.ts";
import { CaptureEncoder } from "../../tests/support/capture_encoder.ts";
import {
  EXT_PATH,
  fakeNativeCapture,
  FakeSymbolizer,
  PYTHON_PATH,
} from "../../tests/native_symbols/fake_native.ts";
import type { MergedFrame } from "./merged_stacks.ts";
import { StackResolver } from "./stack_resolver.ts";

const EXT_ID = new Uint8Array(20).fill(0xbb);
const EXT_BASE = 0x7000000;

/**
 * The fake native capture (main thread ext.so foo->bar->baz under py_caller, a Python-less
 * worker), with an address in no module innermost on the worker's stack.
 */
function capture(flags = FLAG_NATIVE_TRACES) {
  return fakeNativeCapture(flags, "fake.bin", { worker_extra_ip: 0x9999999 });
}

/** The fake symbolizer; baz's call site inside an inlined function, no debug info for ext.so. */
function fakeSymbolizer(): FakeSymbolizer {
  return new FakeSymbolizer({ [EXT_PATH]: { has_symbols: true, has_debug_info: false } }, {
    [`${EXT_PATH}:0x30`]: [
      { function: "inlined_helper", file: "ext.h", line: 5, inlined: true },
      { function: "baz", file: "/src/ext.c", line: 10 },
    ],
  });
}

const show = (frames: MergedFrame[]) =>
  frames.map((f) => `${f.kind === "python" ? "py" : "c"}:${f.function} ${f.file}:${f.line}`);

Deno.test("native capture: merged stack, inlined frames, launcher and CPython frames cut", async () => {
  const cap = capture();
  const symbolizer = fakeSymbolizer();
  const resolver = await StackResolver.open(cap, { symbolizer, debuginfod: false });
  assert.equal(resolver.native, true);
  const first = resolver.eventFrames(0);
  assert.deepEqual(show(first), [
    "c:inlined_helper ext.h:5",
    "c:baz /src/ext.c:10",
    "c:bar /src/ext.c:15",
    "c:foo /src/ext.c:20",
    "py:py_caller /app/x.py:12",
    "py:<module> /app/x.py:20",
  ]);
  // Return address 0x31 is looked up at 0x30 (ip - 1 - load_base), passed as an exact address:
  // the symbolizer must not step back a second time.
  assert.ok(symbolizer.calls.includes(`${EXT_PATH}:0x30`), symbolizer.calls.join(" "));
  assert.ok(symbolizer.return_address_flags.length > 0);
  assert.ok(symbolizer.return_address_flags.every((flag) => flag === false));
  assert.equal(first[0].module, EXT_PATH);
  // A thread without Python frames keeps its native stack; an address in no module is unknown.
  assert.deepEqual(show(resolver.eventFrames(1)), [
    "c:<unknown> <unknown>:0",
    "c:bar /src/ext.c:15",
    "c:foo /src/ext.c:20",
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
    symbolizer: fakeSymbolizer(),
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
  const symbolizer = fakeSymbolizer();
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
    const symbolizer = fakeSymbolizer();
    const resolver = await StackResolver.open(capture(), {
      symbolizer,
      debuginfod: { urls: [`http://127.0.0.1:${server.addr.port}`], cache_dir, warn: () => {} },
    });
    assert.deepEqual(requests, [`/buildid/${ext_hex}/debuginfo`]);
    assert.deepEqual(symbolizer.debug_files, [[ext_hex, `${cache_dir}/${ext_hex}/debuginfo`]]);
    assert.deepEqual(resolver.usedModules().map((m) => m.path).sort(), [
      EXT_PATH,
      PYTHON_PATH,
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
    path: EXT_PATH,
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
    symbolizer: fakeSymbolizer(),
    debuginfod: false,
  });
  assert.deepEqual(show(resolver.eventFrames(0)), ["c:bar /src/ext.c:15", "c:foo /src/ext.c:20"]);
});
