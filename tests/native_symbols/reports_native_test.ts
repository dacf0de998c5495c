/**
 * Reports of `--native` captures end to end: `summary`, `tree` and `transform csv` of the C
 * extension fixture show `baz`, `bar`, `foo` with their files and lines interleaved with the
 * calling Python frames, for our captures and for memray 1.20's own `memray run --native`
 * captures (read by lib/memray_format). The extension mallocs and frees at once, so the reports
 * look at temporary allocations.
 *
 * Symbolizing needs lib/native/symbolizer.ts; until it exports `Symbolizer` these tests are
 * reported as ignored.
 */
import assert from "node:assert/strict";
import { expectExit, lineOf, memray, runProcess, withTempDir } from "../integration/helpers.ts";
import { cLine, EXT_SOURCE, installExtension, SCRIPT, SIZES } from "./native_fixtures.ts";

const PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12";
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
/** memray 1.20 (scripts/setup.sh) and the interpreter of its virtual environment. */
const MEMRAY_120 = `${ROOT}.tools/memray-venv/bin/memray`;
const MEMRAY_120_PYTHON = `${ROOT}.tools/memray-venv/bin/python`;

async function symbolizerPresent(): Promise<boolean> {
  try {
    const module = await import(new URL("../../lib/native/symbolizer.ts", import.meta.url).href);
    return typeof module.Symbolizer?.open === "function";
  } catch {
    return false;
  }
}
const ignore = !(await symbolizerPresent());
if (ignore) {
  console.log(
    "note: lib/native/symbolizer.ts does not export Symbolizer yet; native report tests ignored",
  );
}

const py = (marker: string) => lineOf(SCRIPT, `# CALL:${marker}`);
const base = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The extension's frames as `name native_ext.c:line`, leaf first. */
async function extFrames(): Promise<string[]> {
  const at = async (name: string) => `${name} native_ext.c:${await cLine(EXT_SOURCE, name)}`;
  return [await at("baz"), await at("bar"), await at("foo")];
}

/** Our `run --native` of the fixture script in `dir`; returns the capture's path. */
async function ourCapture(dir: string): Promise<string> {
  await installExtension(PYTHON, dir);
  await Deno.writeTextFile(`${dir}/x.py`, SCRIPT);
  const out = `${dir}/ours.bin`;
  const result = await memray(
    ["run", "-q", "--native", "-o", out, "--python", PYTHON, "x.py"],
    { cwd: dir },
  );
  expectExit(result, 0, "memray run --native");
  return out;
}

/** memray 1.20's own `run --native` of the fixture script in `dir`. */
async function memrayCapture(dir: string): Promise<string> {
  await installExtension(MEMRAY_120_PYTHON, dir);
  await Deno.writeTextFile(`${dir}/x.py`, SCRIPT);
  const out = `${dir}/memray.bin`;
  const result = await runProcess(MEMRAY_120, ["run", "-q", "--native", "-o", out, "x.py"], {
    cwd: dir,
  });
  expectExit(result, 0, "memray 1.20 run --native");
  return out;
}

/** Checks the three reports of `capture` (run in `dir`). */
async function checkReports(dir: string, capture: string): Promise<void> {
  const ext = await extFrames();
  const flags = ["--no-debuginfod", "--temporary-allocations"];

  // transform csv: the whole merged stack of the extension's malloc, leaf first.
  const csv_path = `${dir}/out.csv`;
  const csv = await memray(["transform", "csv", "-f", "-o", csv_path, ...flags, capture], {
    cwd: dir,
  });
  expectExit(csv, 0, "transform csv");
  const rows = (await Deno.readTextFile(csv_path)).split("\r\n");
  const stackOf = (size: number) => {
    const row = rows.find((r) => r.split(",")[2] === String(size));
    assert.ok(row, `a ${size}-byte row in\n${rows.slice(0, 20).join("\n")}`);
    return row.split(",").slice(5).join(",").split("|").map((f) => {
      const [name, file, line] = f.split(";");
      return `${name} ${base(file)}:${line}`;
    });
  };
  assert.deepEqual(stackOf(SIZES.py_caller), [
    ...ext,
    `py_caller x.py:${py("py_caller")}`,
    `<module> x.py:${py("module")}`,
  ]);
  assert.deepEqual(stackOf(SIZES.recursion), [
    ...ext,
    `recursive_func x.py:${py("recursion_leaf")}`,
    `recursive_func x.py:${py("recursion")}`,
    `recursive_func x.py:${py("recursion")}`,
    `recursive_func x.py:${py("recursion")}`,
    `<module> x.py:${py("recursion_root")}`,
  ]);

  // summary: a row per extension function, next to the Python ones.
  const summary = await memray(["summary", "-r", "100", ...flags, capture], { cwd: dir });
  expectExit(summary, 0, "summary");
  for (const name of ["baz", "bar", "foo"]) {
    assert.match(summary.out, new RegExp(`│ ${name} at \\S*native_ext\\.c `), summary.out);
  }
  assert.match(summary.out, /│ py_caller at \S*x\.py /);
  assert.ok(!summary.out.includes("_PyEval_EvalFrameDefault"), "CPython's frames dropped");

  // tree: baz, bar, foo with their lines below py_caller.
  const tree = await memray(["tree", ...flags, capture], { cwd: dir });
  expectExit(tree, 0, "tree");
  const lines = tree.out.split("\n");
  const index = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
  const caller = index(new RegExp(`py_caller\\s+\\S*x(\\.py)?:${py("py_caller")}`));
  assert.ok(caller >= 0, tree.out);
  const [baz] = ext;
  const leaf = lines.findIndex((l, i) =>
    i > caller && l.includes("baz") && l.includes(`native_ext.c:${baz.split(":")[1]}`)
  );
  assert.ok(leaf > caller, `baz below py_caller:\n${tree.out}`);
  assert.ok(!tree.out.includes("_PyEval_EvalFrameDefault"), "CPython's frames dropped");
}

Deno.test({
  name: "summary, tree, transform csv of a --native capture show the extension's frames",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withTempDir(async (dir) => await checkReports(dir, await ourCapture(dir))),
});

Deno.test({
  name: "memray 1.20's own --native capture: the same merged stacks",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withTempDir(async (dir) => await checkReports(dir, await memrayCapture(dir))),
});
