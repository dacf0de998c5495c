/** The differential flame graph page's data and its colours (pure; shared with the builder). */
import type { PageCommon } from "../../data/common.ts";
import type { DiffSide, DiffTotals } from "../../../../lib/analysis/diff.ts";
import type { FlameTree } from "./model.ts";

/** The diff page's data: one tree over both captures' stacks. */
export interface DiffPageData extends PageCommon {
  kind: "diff";
  strings: string[];
  /** `value`: per node, the sum over its locations of max(base, new) bytes (the width). */
  tree: FlameTree;
  /** Per node: bytes and allocations of the base and of the new capture. */
  base_value: number[];
  new_value: number[];
  base_count: number[];
  new_count: number[];
  base: DiffSide;
  new: DiffSide;
  totals: DiffTotals;
}

/** Growth colour (red) and shrinkage colour (blue), as CSS rgb triples. */
export const GROWTH_RGB = "220, 53, 69";
export const SHRINK_RGB = "13, 110, 253";

/**
 * The colour of a node that went from `base` to `now` bytes: red for growth, blue for
 * shrinkage, stronger for a bigger share of `scale` (the largest change); grey when equal.
 */
export function diffColor(base: number, now: number, scale: number): string {
  const delta = now - base;
  if (delta === 0 || scale <= 0) return "var(--other)";
  const alpha = 0.25 + 0.75 * Math.min(1, Math.abs(delta) / scale);
  return `rgba(${delta > 0 ? GROWTH_RGB : SHRINK_RGB}, ${alpha.toFixed(3)})`;
}
