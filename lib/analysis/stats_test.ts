import { assertEquals } from "../../tests/support/assert.ts";
import { ModuleResolver } from "./stats.ts";

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
