/**
 * Reports of `--native` captures end to end: `summary`, `tree` and `transform csv` of the C
 * extension fixture show `baz`, `bar`, `foo` with their files and lines interleaved with the
 * calling Python frames, for our captures and for memray 1.20's own `memray run --native`
 * captures (read by lib/memray_format). The extension mallocs and frees at once, so the reports
 * look at temporary allocations. On memray's captures our merged stacks equal memray 1.20's own
 * `transform csv` (its hybrid stacks) minus CPython's own frames, which our reports drop.
 *
 * Symbolizing needs lib/native/symbolizer.ts; until it exports `Symbolizer` these tests are
 * reported as ignored.
 */
import assert from "node:assert/strict";
import { expectExit, lineOf, memray, runProcess, withTempDir } from "../integration/helpers.ts";
import { isCpythonInternal } from "../../lib/analysis/frame_filter.ts";
import { cLine, EXT_SOURCE, SCRIPT, SIZES } from "./native_fixtures.ts";
import { MEMRAY_120, memrayCapture, ourCapture, symbolizerPresent } from "./native_captures.ts";

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

/** The merged stacks of `transform csv` rows of the fixture's sizes, leaf first, as `name file:line`. */
type CsvStacks = (size: number) => string[];

/** Parses a transform csv file into {@link CsvStacks} (files shown by base name). */
async function csvStacks(path: string): Promise<CsvStacks> {
  const rows = (await Deno.readTextFile(path)).split(/\r?\n/);
  return (size: number) => {
    const row = rows.find((r) => r.split(",")[2] === String(size));
    assert.ok(row, `a ${size}-byte row in\n${rows.slice(0, 20).join("\n")}`);
    return row.split(",").slice(5).join(",").split("|").flatMap((f) => {
      const [name, file, line] = f.split(";");
      return [`${name} ${base(file)}:${line}`];
    });
  };
}

/** memray 1.20's own `transform csv` of `capture`, CPython's frames dropped as our reports do. */
async function memrayCsv(dir: string, capture: string): Promise<CsvStacks> {
  const path = `${dir}/theirs.csv`;
  const result = await runProcess(
    MEMRAY_120,
    ["transform", "csv", "-f", "-o", path, "--temporary-allocations", capture],
    { cwd: dir },
  );
  expectExit(result, 0, "memray 1.20 transform csv");
  const rows = (await Deno.readTextFile(path)).split(/\r?\n/).map((row) => {
    const cells = row.split(",");
    if (cells.length < 6) return row;
    const kept = cells.slice(5).join(",").split("|").filter((f) => {
      const [name, file] = f.split(";");
      return !isCpythonInternal({ function: name, filename: file ?? "" });
    });
    return [...cells.slice(0, 5), kept.join("|")].join(",");
  });
  await Deno.writeTextFile(path, rows.join("\n"));
  return await csvStacks(path);
}

/**
 * The stack our capture's rows must have: the extension's `baz, bar, foo, run` at their lines,
 * then CPython's C frames that are not its own call machinery (`cfunction_call`: memray keeps
 * it too), then `python` (the Python frames, launcher cut).
 */
async function checkOurStack(stack: string[], python: string[]): Promise<void> {
  const ext = [...await extFrames(), `run native_ext.c:${await cLine(EXT_SOURCE, "run")}`];
  assert.deepEqual(stack.slice(0, ext.length), ext, stack.join("\n"));
  assert.deepEqual(stack.slice(stack.length - python.length), python, stack.join("\n"));
  const between = stack.slice(ext.length, stack.length - python.length);
  assert.ok(between.length <= 2, `CPython frames between run and Python:\n${stack.join("\n")}`);
  for (const frame of between) {
    assert.match(frame, /^\w+ \w+\.[ch]:\d+$/, stack.join("\n"));
    assert.ok(!frame.includes("_PyEval_EvalFrameDefault"), stack.join("\n"));
  }
}

/** Checks the three reports of `capture` (run in `dir`); `theirs`: memray's stacks to equal. */
async function checkReports(
  dir: string,
  capture: string,
  theirs: CsvStacks | undefined,
): Promise<void> {
  const ext = await extFrames();
  const flags = ["--no-debuginfod", "--temporary-allocations"];

  // transform csv: the whole merged stack of the extension's malloc, leaf first.
  const csv_path = `${dir}/out.csv`;
  const csv = await memray(["transform", "csv", "-f", "-o", csv_path, ...flags, capture], {
    cwd: dir,
  });
  expectExit(csv, 0, "transform csv");
  const stackOf = await csvStacks(csv_path);
  if (theirs !== undefined) {
    assert.deepEqual(stackOf(SIZES.py_caller), theirs(SIZES.py_caller));
    assert.deepEqual(stackOf(SIZES.recursion), theirs(SIZES.recursion));
  }
  // The launcher is cut on our captures; memray's keep theirs (runpy, memray's run.py).
  const outer = (stack: string[], module_line: number) =>
    theirs === undefined
      ? stack
      : stack.slice(0, stack.indexOf(`<module> x.py:${module_line}`) + 1);
  await checkOurStack(outer(stackOf(SIZES.py_caller), py("module")), [
    `py_caller x.py:${py("py_caller")}`,
    `<module> x.py:${py("module")}`,
  ]);
  await checkOurStack(outer(stackOf(SIZES.recursion), py("recursion_root")), [
    `recursive_func x.py:${py("recursion_leaf")}`,
    `recursive_func x.py:${py("recursion")}`,
    `recursive_func x.py:${py("recursion")}`,
    `recursive_func x.py:${py("recursion")}`,
    `<module> x.py:${py("recursion_root")}`,
  ]);

  // summary: a row per extension function, next to the Python ones.
  const summary = await memray(["summary", "-r", "100", ...flags, capture], { cwd: dir });
  expectExit(summary, 0, "summary");
  for (const name of ["baz", "bar", "foo", "run"]) {
    assert.match(summary.out, new RegExp(`│ ${name} at \\S*native_ext\\.c `), summary.out);
  }
  assert.match(summary.out, /│ py_caller at \S*x\.py /);
  assert.ok(!summary.out.includes("_PyEval_EvalFrameDefault"), "CPython's frames dropped");

  // tree: below `<module>`'s line 20, its single chain (bar .. py_caller, collapsed into one
  // "[[N frames hidden]]" line) ends at baz's line.
  const tree = await memray(["tree", ...flags, capture], { cwd: dir });
  expectExit(tree, 0, "tree");
  const lines = tree.out.split("\n");
  const caller = outer(stackOf(SIZES.py_caller), py("module"));
  const module = lines.findIndex((l) =>
    new RegExp(`<module>\\s+x(\\.py)?:${py("module")}$`).test(l)
  );
  assert.ok(module >= 0, tree.out);
  assert.match(
    lines[module + 1],
    new RegExp(`\\[\\[${caller.length - 2} frames hidden in \\d+ file\\(s\\)\\]\\]`),
    tree.out,
  );
  const [baz] = ext;
  assert.match(
    lines[module + 2],
    new RegExp(`📄 123\\.457kB .* baz\\s+\\S*native_ext\\.c:${baz.split(":")[1]}$`),
    tree.out,
  );
  assert.ok(!tree.out.includes("_PyEval_EvalFrameDefault"), "CPython's frames dropped");
}

Deno.test({
  name: "summary, tree, transform csv of a --native capture show the extension's frames",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withTempDir(async (dir) => await checkReports(dir, await ourCapture(dir), undefined)),
});

Deno.test({
  name: "memray 1.20's own --native capture: the same merged stacks",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      const capture = await memrayCapture(dir);
      await checkReports(dir, capture, await memrayCsv(dir, capture));
    }),
});
