import assert from "node:assert/strict";
import { format_bytes, format_table, geomean, median, paired_ratio, rotate } from "./stats.ts";

Deno.test("median takes the middle value of odd and the mean of even lengths", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), /no values/);
});

Deno.test("median does not reorder its input", () => {
  const values = [3, 1, 2];
  median(values);
  assert.deepEqual(values, [3, 1, 2]);
});

Deno.test("geomean of ratios", () => {
  assert.equal(geomean([]), undefined);
  assert.ok(Math.abs(geomean([1, 4])! - 2) < 1e-12);
  assert.ok(Math.abs(geomean([2, 2, 2])! - 2) < 1e-12);
  assert.throws(() => geomean([1, 0]), /not positive/);
  assert.throws(() => geomean([1, Number.NaN]), /not positive/);
});

Deno.test("rotate alternates the starting element", () => {
  assert.deepEqual(rotate(["a", "b", "c"], 0), ["a", "b", "c"]);
  assert.deepEqual(rotate(["a", "b", "c"], 1), ["b", "c", "a"]);
  assert.deepEqual(rotate(["a", "b", "c"], 4), ["b", "c", "a"]);
  assert.deepEqual(rotate(["a", "b", "c"], -1), ["c", "a", "b"]);
  assert.deepEqual(rotate([], 3), []);
});

Deno.test("format_bytes picks a binary unit", () => {
  assert.equal(format_bytes(512), "512 B");
  assert.equal(format_bytes(1536), "1.5 KiB");
  assert.equal(format_bytes(3 * 1024 * 1024), "3.0 MiB");
});

Deno.test("format_table pads columns and rejects ragged rows", () => {
  const table = format_table({ header: ["name", "x"], rows: [["a", "1.00"], ["long", "2"]] });
  assert.equal(
    table,
    ["| name |    x |", "|------|-----:|", "| a    | 1.00 |", "| long |    2 |"].join("\n"),
  );
  assert.throws(() => format_table({ header: ["a", "b"], rows: [["1"]] }), /row has 1 cells/);
  const left = format_table({ header: ["a", "bb"], rows: [["x", "y"]], align: ["left", "left"] });
  assert.equal(left, ["| a | bb |", "|---|----|", "| x | y  |"].join("\n"));
  assert.throws(
    () => format_table({ header: ["a"], rows: [], align: ["left", "right"] }),
    /2 alignments for 1 columns/,
  );
});

Deno.test("paired_ratio takes the median of per-repeat ratios and skips missing runs", () => {
  // A slow second repeat (machine busy) moves both; the paired ratio stays 2.
  assert.equal(paired_ratio([1, 3, 1], [2, 6, 2]), 2);
  assert.equal(paired_ratio([1, undefined, 2], [3, 5, 4]), 2.5);
  assert.equal(paired_ratio([undefined], [1]), undefined);
  assert.equal(paired_ratio([], []), undefined);
  assert.equal(paired_ratio([1, 1], [2]), 2);
});
