/**
 * The report commands wired into the CLI beyond stats/summary/parse: tree, transform and diff,
 * on a real capture, with memray's refusals (one line, status 1 or 2).
 */
import assert from "node:assert/strict";
import { exists, oneErrorLine, REAL_ENGINE, runMemray, withScripts } from "./helpers.ts";

const SCRIPT =
  "def build(n):\n    return [bytearray(1000) for _ in range(n)]\n\nkept = build(200)\n";
const BIGGER =
  "def build(n):\n    return [bytearray(1000) for _ in range(n)]\n\nkept = build(900)\n";
const haveEngine = await exists(REAL_ENGINE);

async function capture(cwd: string, script: string, out: string): Promise<void> {
  const result = await runMemray(["run", "-q", "-f", "-o", out, script], {
    cwd,
    engine: REAL_ENGINE,
  });
  assert.equal(result.code, 0, result.stderr);
}

Deno.test({
  name: "tree, transform and diff run on real captures",
  ignore: !haveEngine,
  fn: async () => {
    await withScripts({ "a.py": SCRIPT, "b.py": BIGGER }, async (cwd) => {
      await capture(cwd, "a.py", "a.bin");
      await capture(cwd, "b.py", "b.bin");

      const tree = await runMemray(["tree", "a.bin"], { cwd });
      assert.equal(tree.code, 0, tree.stderr);
      assert.match(tree.stdout, /<listcomp> +a:2/);

      const csv = await runMemray(["transform", "csv", "a.bin"], { cwd });
      assert.equal(csv.code, 0, csv.stderr);
      assert.match(csv.stdout, /Wrote .*memray-csv-a\.csv/);
      const rows = await Deno.readTextFile(`${cwd}/memray-csv-a.csv`);
      assert.match(
        rows.split("\n")[0],
        /^allocator,num_allocations,size,tid,thread_name,stack_trace/,
      );

      const again = await runMemray(["transform", "csv", "a.bin"], { cwd });
      assert.equal(again.code, 1);
      assert.match(oneErrorLine(again.stderr), /will not overwrite without --force/);

      const json = await runMemray(["diff", "--json", "a.bin", "b.bin"], { cwd });
      assert.equal(json.code, 0, json.stderr);
      const document = JSON.parse(json.stdout);
      const grown = document.new.heap_bytes - document.base.heap_bytes;
      assert.ok(grown >= 700 * 1000, `the new capture holds 700 more buffers: ${grown}`);
    });
  },
});

Deno.test("report commands refuse bad input with one line", async () => {
  await withScripts({}, async (cwd) => {
    const cases: [string[], number, RegExp][] = [
      [["tree", "missing.bin"], 1, /^memray: No such file: missing\.bin$/],
      [["diff", "missing.bin", "other.bin"], 1, /^memray: No such file: missing\.bin$/],
      [["transform", "yaml", "missing.bin"], 1, /^memray: Format not supported: yaml$/],
      [["tree", "-b", "0", "x.bin"], 2, /invalid positive int value/],
      [
        ["transform", "csv", "--leaks", "--temporary-allocations", "x.bin"],
        2,
        /cannot be used with/,
      ],
      [
        ["summary", "--temporary-allocations", "--temporary-allocation-threshold", "2", "x.bin"],
        2,
        /cannot be used with/,
      ],
    ];
    for (const [args, code, line] of cases) {
      const result = await runMemray(args, { cwd });
      assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
      assert.match(oneErrorLine(result.stderr), line, args.join(" "));
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });
});
