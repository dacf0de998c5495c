import { assertEquals } from "../../tests/support/assert.ts";
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { MergedFrame } from "./merged_stacks.ts";
import type { StackFrames } from "./stack_resolver.ts";
import { type EventRun, finishStatistics, ModuleResolver, StatsAccumulator } from "./stats.ts";

const INFO = {
  stdlib: "/usr/lib/python3.11",
  site_packages: [
    "/usr/lib/python3.11/site-packages",
    "/home/u/.local/lib/python3.11/site-packages",
  ],
  sys_path: ["/work/app", "/usr/lib/python3.11", "/work"],
};

Deno.test("ModuleResolver names files as memray's module_tools does", () => {
  const r = new ModuleResolver(INFO);
  const cases: [string, [string, string]][] = [
    // site-packages is checked before the stdlib dir it lies in.
    ["/usr/lib/python3.11/site-packages/numpy/core/multiarray.py", [
      "numpy.core.multiarray",
      "site-packages",
    ]],
    ["/usr/lib/python3.11/site-packages/pkg/__init__.py", ["pkg", "site-packages"]],
    ["/usr/lib/python3.11/json/decoder.py", ["json.decoder", "stdlib"]],
    ["<frozen importlib._bootstrap>", ["importlib._bootstrap", "stdlib"]],
    // sys.path in its own order: /work/app before /work.
    ["/work/app/pkg/mod.py", ["pkg.mod", "project"]],
    ["/work/other/x.py", ["other.x", "project"]],
    // Outside every path: the file's own stem; non-.py suffixes stay.
    ["/opt/tool/runner.py", ["runner", "unknown"]],
    ["/opt/lib/_speedups.cpython-311.so", ["_speedups.cpython-311.so", "unknown"]],
    ["<string>", ["<string>", "unknown"]],
    ["", ["unknown", "unknown"]],
    // pathlib normalizes "//" and "." parts.
    ["/work//app/./m.py", ["m", "project"]],
  ];
  for (const [file, expected] of cases) assertEquals(r.moduleOf(file), expected, file);
});

Deno.test("ModuleResolver.moduleForStack walks leaf to root past stdlib frames", () => {
  const launcher = "/opt/memray_deno/bootstrap.py";
  const r = new ModuleResolver(INFO, (f) => f === launcher);
  assertEquals(
    r.moduleForStack(["/usr/lib/python3.11/json/decoder.py", "/work/app/pkg/mod.py"]),
    "pkg",
  );
  assertEquals(
    r.moduleForStack(["<frozen runpy>", "/usr/lib/python3.11/json/decoder.py"]),
    "<root>",
  );
  assertEquals(r.moduleForStack([]), "<root>");
  // memray's own package ends the walk, as our launcher does.
  assertEquals(
    r.moduleForStack([
      "/usr/lib/python3.11/site-packages/memray/commands/run.py",
      "/work/app/a.py",
    ]),
    "<root>",
  );
  assertEquals(r.moduleForStack(["<frozen runpy>", launcher, "/work/app/a.py"]), "<root>");
  assertEquals(r.moduleForStack(["/opt/tool/runner.py"]), "runner");
});

/** Event rows of allocations (MALLOC) of [Python node, native node, size]. */
function mallocs(rows: [number, number, number][]): EventRun {
  const n = rows.length;
  return {
    count: n,
    kind: new Uint8Array(n).fill(0x01),
    addr: Float64Array.from(rows, (_, i) => 0x1000 * (i + 1)),
    size: Float64Array.from(rows, (r) => r[2]),
    thread: new Uint32Array(n).fill(1),
    py_stack: Uint32Array.from(rows, (r) => r[0]),
    native_stack: Uint32Array.from(rows, (r) => r[1]),
  };
}

/** A capture whose Python node k is `f<k>` at /app/m.py:k. */
function fakeInfo(native_traces: boolean): CaptureInfo {
  const frames = (node: number) => [{ function: `f${node}`, filename: "/app/m.py", lineno: node }];
  return {
    header: { native_traces, metadata: { sys_path: ["/app"] } },
    python: { frames },
  } as unknown as CaptureInfo;
}

/** Merged stacks: native node 5 ends in baz, 6 in qux; no native stack: the Python frames. */
const STACKS: StackFrames = {
  frames(py_stack, native_stack) {
    const python: MergedFrame = {
      kind: "python",
      function: `f${py_stack}`,
      file: "/app/m.py",
      line: py_stack,
    };
    if (native_stack === 0) return [python];
    const leaf = native_stack === 5 ? "baz" : "qux";
    return [{ kind: "native", function: leaf, file: "/src/ext.c", line: native_stack }, python];
  },
};

Deno.test("stats totals are kept per (Python stack, native stack) pair", () => {
  const acc = new StatsAccumulator();
  acc.add(mallocs([[1, 5, 100], [1, 0, 10], [1, 6, 50], [2, 5, 1], [1, 5, 3]]));
  assertEquals(acc.stacks(), [[1, 5, 103, 2], [1, 0, 10, 1], [1, 6, 50, 1], [2, 5, 1, 1]]);
  // A Python node past the first slots, without a native stack.
  acc.add(mallocs([[5000, 0, 7]]));
  assertEquals(acc.stacks()[4], [5000, 0, 7, 1]);
});

Deno.test("a native capture's locations are its merged stacks' leaves; modules stay Python", () => {
  const acc = new StatsAccumulator();
  acc.add(mallocs([[1, 5, 100], [1, 0, 10], [1, 6, 50], [2, 5, 1]]));
  const merged = finishStatistics(fakeInfo(true), acc, 5, STACKS);
  assertEquals(merged.top_locations_by_size, [
    [["baz", "/src/ext.c", 5], 101],
    [["qux", "/src/ext.c", 6], 50],
    [["f1", "/app/m.py", 1], 10],
  ]);
  assertEquals(merged.top_locations_by_count[0], [["baz", "/src/ext.c", 5], 2]);
  assertEquals(merged.top_modules_by_size, [{ module: "m", num_allocations: 4, total_bytes: 161 }]);
  // Without native traces, or without stacks: the leaf Python frames, as memray's.
  for (
    const stats of [
      finishStatistics(fakeInfo(false), acc, 5, STACKS),
      finishStatistics(fakeInfo(true), acc, 5),
    ]
  ) {
    assertEquals(stats.top_locations_by_size, [[["f1", "/app/m.py", 1], 160], [[
      "f2",
      "/app/m.py",
      2,
    ], 1]]);
  }
});
