/**
 * `stats` of `--native` captures end to end: the top location by size is the extension's `baz`
 * (the merged stack's leaf, where malloc was called) at its file and line, for our captures and
 * for memray 1.20's own; on the terminal and in `--json`. memray 1.20's own `stats` names the
 * Python caller there instead (it reads only the Python stack): ours is deliberately the leaf
 * our summary and tree show.
 */
import assert from "node:assert/strict";
import { expectExit, lineOf, memray, runProcess, withTempDir } from "../integration/helpers.ts";
import { cLine, EXT_SOURCE, SCRIPT, SIZES } from "./native_fixtures.ts";
import { MEMRAY_120, memrayCapture, ourCapture, symbolizerPresent } from "./native_captures.ts";

const ignore = !(await symbolizerPresent());

/** Both extension calls (py_caller's and the recursion's) malloc in baz. */
const BAZ_BYTES = SIZES.py_caller + SIZES.recursion;

/** The entries of a stats report's "largest allocating locations (by size)" list. */
function topBySize(report: string): string[] {
  const lines = report.split("\n");
  const start = lines.findIndex((l) => l.includes("largest allocating locations (by size)"));
  assert.ok(start >= 0, report);
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("\t- ")) break;
    entries.push(line.slice(3));
  }
  return entries;
}

async function checkStats(dir: string, capture: string): Promise<void> {
  const baz = new RegExp(`^baz:/\\S*/native_ext\\.c:${await cLine(EXT_SOURCE, "baz")}$`);
  const text = await memray(["stats", "--no-debuginfod", capture], { cwd: dir });
  expectExit(text, 0, "stats");
  const top = topBySize(text.out);
  assert.equal(top.length, 5, text.out);
  const [location, size] = top[0].split(" -> ");
  assert.match(location, baz, text.out);
  assert.equal(size, "222.222kB", text.out);
  // The Python callers are no longer leaves of these bytes.
  assert.ok(!/py_caller|recursive_func/.test(top.join("\n")), text.out);

  const json_path = `${dir}/stats.json`;
  const json = await memray(
    ["stats", "--json", "-f", "-o", json_path, "--no-debuginfod", capture],
    { cwd: dir },
  );
  expectExit(json, 0, "stats --json");
  const doc = JSON.parse(await Deno.readTextFile(json_path));
  const first = doc.top_allocations_by_size[0];
  assert.match(first.location, baz);
  assert.equal(first.size, BAZ_BYTES);
  assert.equal(first.location, location, "the terminal and JSON name the same location");
  assert.equal(doc.metadata.has_native_traces, true);
}

Deno.test({
  name: "stats of our --native capture: the top location by size is the extension's baz",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withTempDir(async (dir) => await checkStats(dir, await ourCapture(dir))),
});

Deno.test({
  name: "stats of memray 1.20's --native capture: baz too, where memray names the Python caller",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      const capture = await memrayCapture(dir);
      await checkStats(dir, capture);
      const theirs = await runProcess(MEMRAY_120, ["stats", capture], { cwd: dir });
      expectExit(theirs, 0, "memray 1.20 stats");
      const their_top = topBySize(theirs.out);
      const caller = `py_caller:x.py:${lineOf(SCRIPT, "# CALL:py_caller")} -> 123.457kB`;
      assert.ok(their_top.includes(caller), theirs.out);
      assert.ok(!their_top.some((entry) => entry.startsWith("baz:")), theirs.out);
    }),
});
