/**
 * `--debug-dir DIR` (repeatable) and `--no-debuginfod` on every terminal report that shows
 * stacks or names locations (`stats`' top locations are merged-stack leaves on native
 * captures): accepted, and a capture without native traces reports exactly as without them.
 */
import assert from "node:assert/strict";
import { runMemray, withScripts } from "../cli/helpers.ts";
import { fakeNativeCaptureBytes } from "./fake_native.ts";

const FLAGS = ["--debug-dir", "/nonexistent/a", "--debug-dir", "/nonexistent/b", "--no-debuginfod"];

const REPORTS: string[][] = [
  ["stats", "plain.bin"],
  ["summary", "plain.bin"],
  ["tree", "plain.bin"],
  ["transform", "csv", "-f", "-o", "out.csv", "plain.bin"],
  ["diff", "plain.bin", "plain.bin"],
];

Deno.test("stack flags are accepted and change nothing for a Python-only capture", async () => {
  await withScripts({}, async (cwd) => {
    await Deno.writeFile(`${cwd}/plain.bin`, fakeNativeCaptureBytes(0));
    for (const args of REPORTS) {
      const plain = await runMemray(args, { cwd });
      const csv = args[0] === "transform" ? await Deno.readTextFile(`${cwd}/out.csv`) : "";
      const flagged = await runMemray([...args.slice(0, -1), ...FLAGS, ...args.slice(-1)], { cwd });
      const what = `memray ${args.join(" ")}: ${flagged.stderr}`;
      assert.equal(plain.code, 0, `${what} ${plain.stderr}`);
      assert.equal(flagged.code, 0, what);
      assert.equal(flagged.stdout, plain.stdout, what);
      assert.equal(flagged.stderr, "", what);
      if (args[0] === "stats") assert.match(flagged.stdout, /py_caller:\/app\/x\.py:12 -> /);
      if (args[0] === "transform") {
        assert.equal(await Deno.readTextFile(`${cwd}/out.csv`), csv);
        assert.match(csv, /py_caller;\/app\/x\.py;12\|<module>;\/app\/x\.py;20/);
      }
    }
    // A flag no report has is still refused.
    const bad = await runMemray(["stats", "--no-such-flag", "plain.bin"], { cwd });
    assert.equal(bad.code, 2, bad.stderr);
  });
});
