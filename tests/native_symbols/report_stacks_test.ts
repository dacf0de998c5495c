/**
 * The reports' call sites with a fake symbolizer: summary, tree, transform (csv, pprof) and diff
 * show merged stacks of a native capture, Python stacks of the same events without native
 * traces; ReportStacks warns once about missing symbols and closes what it opened.
 */
import assert from "node:assert/strict";
import { FLAG_NATIVE_TRACES } from "../../lib/capture/header.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";
import { functionTotals } from "../../lib/analysis/summary.ts";
import { diffCaptures } from "../../lib/analysis/diff.ts";
import { missingSymbolWarnings, ReportStacks } from "../../lib/analysis/report_stacks.ts";
import { interpreterModules } from "../../lib/analysis/stack_resolver.ts";
import { buildCallTree, renderCallTree } from "../../reporters/tree.ts";
import { renderCsv } from "../../reporters/transform/csv.ts";
import { buildPprofProfile } from "../../reporters/transform/pprof.ts";
import { decodeProfile } from "../../lib/pprof/profile_decode.ts";
import {
  EXT_PATH,
  fakeNativeCapture,
  FakeSymbolizer,
  type ModuleSymbols,
  PYTHON_PATH,
} from "./fake_native.ts";

/** ReportStacks over the fake symbolizer; `warnings` collects what it prints. */
function fakeStacks(modules: ModuleSymbols = {}) {
  const warnings: string[] = [];
  const symbolizers: FakeSymbolizer[] = [];
  const stacks = new ReportStacks({
    debuginfod: false,
    warn: (line) => warnings.push(line),
    symbolizer: () => {
      const s = new FakeSymbolizer(modules);
      symbolizers.push(s);
      return s;
    },
  });
  return { stacks, warnings, symbolizers };
}

const peak = (capture: ReturnType<typeof fakeNativeCapture>, merge_threads = true) =>
  selectSnapshot(capture, { mode: "high_water_mark", merge_threads }).records;

Deno.test("summary: native frames get rows of their own, CPython's frames none", async () => {
  const capture = fakeNativeCapture();
  const { stacks } = fakeStacks();
  const rows = functionTotals(capture, peak(capture), await stacks.open(capture));
  stacks.close();
  const show = rows.map((r) => `${r.function} ${r.file} own=${r.own_bytes} total=${r.total_bytes}`);
  // 95% of the heap is covered by the first two records: the 7 bytes are left out, as memray.
  assert.deepEqual(show, [
    "baz /src/ext.c own=100 total=100",
    "bar /src/ext.c own=64 total=164",
    "foo /src/ext.c own=0 total=164",
    "py_caller /app/x.py own=0 total=100",
    "<module> /app/x.py own=0 total=100",
  ]);
  // The same events without native traces: Python rows only, as before.
  const plain = fakeNativeCapture(0);
  const python = functionTotals(plain, peak(plain), await new ReportStacks().open(plain));
  assert.deepEqual(python.map((r) => `${r.function} ${r.total_bytes}`).sort(), [
    "<module> 100",
    "<unknown> 64",
    "py_caller 100",
  ]);
  assert.deepEqual(python, functionTotals(plain, peak(plain)), "default: Python stacks");
});

Deno.test("tree: the extension's frames hang below the Python frame that called them", async () => {
  const capture = fakeNativeCapture();
  const { stacks } = fakeStacks();
  const tree = buildCallTree(capture, peak(capture, false), 200, await stacks.open(capture));
  const text = renderCallTree(tree, { color: false, collapseChains: false });
  const lines = text.split("\n").map((l) => l.replace(/^[│├└─ ]+/, "").replace(/ \(.*\)/, ""));
  assert.deepEqual(lines.slice(0, 6), [
    "📂 171.000B <ROOT>",
    "📂 107.000B <module>  /app/x.py:20",
    "📂 107.000B py_caller  /app/x.py:12",
    "📂 100.000B foo  /src/ext.c:20",
    "📂 100.000B bar  /src/ext.c:15",
    "📄 100.000B baz  /src/ext.c:10",
  ], text);
  assert.ok(!text.includes("_PyEval") && !text.includes("Vectorcall"), text);
  assert.deepEqual(lines.slice(6, 8), [
    "📂 64.000B foo  /src/ext.c:20",
    "📄 64.000B bar  /src/ext.c:15",
  ]);
  stacks.close();
});

Deno.test("transform csv and pprof: merged stacks; pprof gives native frames functions", async () => {
  const capture = fakeNativeCapture();
  const { stacks } = fakeStacks();
  const resolver = await stacks.open(capture);
  const records = peak(capture);
  const csv = renderCsv(capture, records, resolver).split("\r\n");
  assert.equal(
    csv[1],
    "MALLOC,1,100,1,0x1,baz;/src/ext.c;10|bar;/src/ext.c;15|foo;/src/ext.c;20|" +
      "py_caller;/app/x.py;12|<module>;/app/x.py;20",
  );
  assert.equal(csv[2], "MALLOC,1,64,2,0x2,bar;/src/ext.c;15|foo;/src/ext.c;20");
  assert.equal(csv[3], "MALLOC,1,7,1,0x1,py_caller;/app/x.py;12|<module>;/app/x.py;20");
  const profile = decodeProfile(
    buildPprofProfile(capture, records, { selection: "high_water_mark", stacks: resolver })
      .encode(),
  );
  const stacks_of = profile.samples.map((s) =>
    s.frames.map((f) => `${f.function}:${f.line}`).join(" ")
  );
  assert.deepEqual(stacks_of, [
    "baz:10 bar:15 foo:20 py_caller:12 <module>:20",
    "bar:15 foo:20",
    "py_caller:12 <module>:20",
  ]);
  // alloc_* (every allocation) and inuse_* land on the same samples, keyed by native stack too.
  assert.deepEqual(profile.samples.map((s) => s.values), [
    [1, 100, 1, 100],
    [1, 64, 1, 64],
    [1, 7, 1, 7],
  ]);
  const names = new Set(profile.samples.flatMap((s) => s.frames.map((f) => f.function)));
  assert.deepEqual([...names].sort(), ["<module>", "bar", "baz", "foo", "py_caller"]);
  stacks.close();
  // Without a resolver, as before: Python stacks.
  const plain = renderCsv(capture, records).split("\r\n");
  assert.equal(plain[1], "MALLOC,1,100,1,0x1,py_caller;/app/x.py;12|<module>;/app/x.py;20");
  assert.equal(plain[2], "MALLOC,1,64,2,0x2,");
});

Deno.test("diff: native frames tell locations apart; a capture against itself is unchanged", async () => {
  const base = fakeNativeCapture(FLAG_NATIVE_TRACES, "base.bin");
  const now = fakeNativeCapture(FLAG_NATIVE_TRACES, "now.bin");
  const { stacks } = fakeStacks();
  const d = diffCaptures(base, now, "high_water_mark", {
    base: await stacks.open(base),
    now: await stacks.open(now),
  });
  stacks.close();
  assert.equal(d.totals.unchanged, 3);
  assert.deepEqual(
    d.locations.map((l) => l.stack.map((f) => f.function).join(" <- ")),
    ["<module> <- py_caller <- foo <- bar <- baz", "foo <- bar", "<module> <- py_caller"],
  );
});

Deno.test("ReportStacks: missing symbols warn once per report; every symbolizer is closed", async () => {
  const { stacks, warnings, symbolizers } = fakeStacks({
    [PYTHON_PATH]: { has_symbols: true, has_debug_info: false },
    [EXT_PATH]: { has_symbols: false, has_debug_info: false },
  });
  await stacks.open(fakeNativeCapture());
  await stacks.open(fakeNativeCapture());
  await stacks.open(fakeNativeCapture(0));
  assert.equal(symbolizers.length, 2, "no symbolizer for a capture without native traces");
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(
    warnings[0],
    /^memray: warning: No debug information was found for the Python interpreter \(\/usr\/bin\/python3\.11\): its native frames have no file names and line numbers/,
  );
  assert.match(warnings[1], /No symbol information was found for 1 module \(\/app\/ext\.so\)/);
  assert.ok(symbolizers.every((s) => !s.closed));
  stacks.close();
  assert.ok(symbolizers.every((s) => s.closed));
  await assert.rejects(() => stacks.open(fakeNativeCapture()), /after close/);
});

Deno.test("ReportStacks: a symbolizer that cannot load leaves Python stacks and one warning", async () => {
  const warnings: string[] = [];
  const stacks = new ReportStacks({
    debuginfod: false,
    warn: (line) => warnings.push(line),
    symbolizer: () => {
      throw new Error("libmemrayd_report.so: cannot open shared object file\nmore");
    },
  });
  const capture = fakeNativeCapture();
  const resolver = await stacks.open(capture);
  await stacks.open(capture);
  assert.equal(resolver.native, false);
  assert.deepEqual(warnings, [
    "memray: warning: Cannot load the native symbolizer (libmemrayd_report.so: cannot open " +
    "shared object file): the report's stacks have their Python frames only, without " +
    "extension or C frames.",
  ]);
  assert.deepEqual(resolver.frames(1, 0, 1).map((f) => f.kind), []);
  stacks.close();
});

Deno.test("missing-symbol warnings say what the report lacks", () => {
  assert.deepEqual(missingSymbolWarnings({ modules_without_symbols: [] }), []);
  const none = missingSymbolWarnings({
    interpreter: { path: "/usr/lib/libpython3.12.so.1.0", lacks: "symbols" },
    modules_without_symbols: ["/a.so", "/b.so", "/c.so", "/d.so", "/e.so"],
  });
  assert.equal(none.length, 2);
  assert.match(none[0], /No symbol information was found for the Python interpreter/);
  assert.match(none[0], /show their Python frames only/);
  assert.match(none[1], /for 5 modules \(\/a\.so, \/b\.so, \/c\.so and 2 more\): .*"<unknown>"/);
  assert.ok(none.every((l) => !l.includes("\n")), "one line each");
});

Deno.test("the interpreter is libpython when loaded, else the python executable", () => {
  const m = (path: string) => ({ path, load_base: 0, build_id: new Uint8Array(), segments: [] });
  const exe = m("/usr/bin/python3.12");
  const lib = m("/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0");
  const ext = m("/app/python_ext.so");
  assert.deepEqual(interpreterModules([exe, lib, ext]), [lib]);
  assert.deepEqual(interpreterModules([exe, ext]), [exe]);
  const venv = m("/opt/bin/py");
  assert.deepEqual(interpreterModules([venv, ext], "/opt/bin/py"), [venv]);
  assert.deepEqual(interpreterModules([ext]), []);
});
