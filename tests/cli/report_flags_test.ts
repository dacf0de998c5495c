/**
 * `--leaks`, `--temporary-allocations` and `--temporary-allocation-threshold N` on the terminal
 * reports, with memray 1.20's rules (reference §1.2-1.3, checked against `memray` itself): tree and
 * summary take only the temporary flags, stats none, transform all three; the flags exclude each
 * other (argparse status 2); transform has no --split-threads; temporary modes refuse aggregated
 * captures (status 1). Each refusal is one line.
 */
import assert from "node:assert/strict";
import { oneErrorLine, runMemray, withScripts } from "./helpers.ts";
import { buildFakeCapture } from "../support/fake_capture.ts";
import { aggregateCapture } from "../../lib/capture/aggregate.ts";

const AGGREGATED_TEMPORARY = /^memray: Can't find temporary allocations using a pre-aggregated/;

/** [arguments, exit status, the one error line (or stdout for status 0)]. */
type Case = [string[], number, RegExp];

const CASES: Case[] = [
  // Which reports take which flags.
  [["tree", "--leaks", "full.bin"], 2, /unknown option '--leaks'/],
  [["summary", "--leaks", "full.bin"], 2, /unknown option '--leaks'/],
  [["stats", "--leaks", "full.bin"], 2, /unknown option '--leaks'/],
  [["stats", "--temporary-allocations", "full.bin"], 2, /unknown option '--temporary-allocations'/],
  [["stats", "--temporary-allocation-threshold", "1", "full.bin"], 2, /unknown option/],
  [["transform", "csv", "--split-threads", "full.bin"], 2, /unknown option '--split-threads'/],
  // Mutual exclusion, in either order.
  [
    ["tree", "--temporary-allocations", "--temporary-allocation-threshold", "2", "full.bin"],
    2,
    /cannot be used with/,
  ],
  [
    ["tree", "--temporary-allocation-threshold", "2", "--temporary-allocations", "full.bin"],
    2,
    /cannot be used with/,
  ],
  [
    ["summary", "--temporary-allocation-threshold", "3", "--temporary-allocations", "full.bin"],
    2,
    /cannot be used with/,
  ],
  [
    ["transform", "csv", "--leaks", "--temporary-allocations", "full.bin"],
    2,
    /'--leaks' cannot be used with option '--temporary-allocations'/,
  ],
  [
    ["transform", "csv", "--temporary-allocation-threshold", "2", "--leaks", "full.bin"],
    2,
    /'--leaks' cannot be used with option '--temporary-allocation-threshold/,
  ],
  [
    [
      "transform",
      "csv",
      "--temporary-allocations",
      "--temporary-allocation-threshold",
      "0",
      "full.bin",
    ],
    2,
    /cannot be used with/,
  ],
  [
    ["transform", "csv", "--temporary-allocation-threshold", "x", "full.bin"],
    2,
    /x is not an integer/,
  ],
  // Temporary modes on an aggregated capture.
  [["tree", "--temporary-allocations", "agg.bin"], 1, AGGREGATED_TEMPORARY],
  [["summary", "--temporary-allocation-threshold", "0", "agg.bin"], 1, AGGREGATED_TEMPORARY],
  [["transform", "csv", "-f", "--temporary-allocations", "agg.bin"], 1, AGGREGATED_TEMPORARY],
  // What each report accepts.
  [["tree", "--temporary-allocation-threshold", "0", "full.bin"], 0, /\S/],
  [["summary", "--temporary-allocations", "full.bin"], 0, /Total Memory/],
  [["summary", "--temporary-allocation-threshold", "-1", "agg.bin"], 0, /Total Memory/],
  [["transform", "csv", "-o", "leaks.csv", "--leaks", "agg.bin"], 0, /Wrote .*leaks\.csv/],
  [["transform", "csv", "-o", "temp.csv", "--temporary-allocations", "full.bin"], 0, /Wrote/],
];

Deno.test("report flags follow memray's rules: which report takes which, and exclusions", async () => {
  await withScripts({}, async (cwd) => {
    const bytes = buildFakeCapture().finish();
    await Deno.writeFile(`${cwd}/full.bin`, bytes);
    await Deno.writeFile(`${cwd}/agg.bin`, bytes);
    await aggregateCapture(`${cwd}/agg.bin`);
    const results = await Promise.all(CASES.map(([args]) => runMemray(args, { cwd })));
    CASES.forEach(([args, code, pattern], k) => {
      const result = results[k];
      const what = `memray ${args.join(" ")}: ${result.stderr}`;
      assert.equal(result.code, code, what);
      if (code === 0) {
        assert.match(result.stdout, pattern, what);
      } else {
        assert.match(oneErrorLine(result.stderr), pattern, what);
        assert.doesNotMatch(result.stderr, /\n\s+at /, what);
      }
    });
  });
});
