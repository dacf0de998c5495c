/**
 * Pure helpers for the benchmark harness: medians, geometric means, ratios and the text table.
 * Kept apart from `run.ts` (which spawns processes) so they can be tested without running anything.
 * @module
 */

/** Median of a non-empty list of numbers (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("Cannot take the median: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Geometric mean of positive numbers; `undefined` when the list is empty. */
export function geomean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  for (const value of values) {
    if (!(value > 0)) throw new Error(`Cannot take the geometric mean: ${value} is not positive`);
  }
  const log_sum = values.reduce((sum, value) => sum + Math.log(value), 0);
  return Math.exp(log_sum / values.length);
}

/** Rotates `items` left by `shift` places (used to alternate which variant runs first). */
export function rotate<T>(items: readonly T[], shift: number): T[] {
  if (items.length === 0) return [];
  const offset = ((shift % items.length) + items.length) % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}

/** Formats a byte count with a binary unit, e.g. `1.5 MiB`. */
export function format_bytes(size_bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = size_bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Options for {@linkcode format_table}. */
export interface TableOptions {
  /** Column headers. */
  header: readonly string[];
  /** Rows of cells; every row must have as many cells as the header. */
  rows: readonly (readonly string[])[];
  /** Per-column alignment; by default the first column is left-aligned and the rest right. */
  align?: readonly ("left" | "right")[];
}

/** Renders a Markdown table with columns padded to equal width (first column left-aligned). */
export function format_table(options: TableOptions): string {
  const { header, rows } = options;
  const align = options.align ?? header.map((_, column) => column === 0 ? "left" : "right");
  if (align.length !== header.length) {
    throw new Error(`Cannot format table: ${align.length} alignments for ${header.length} columns`);
  }
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new Error(
        `Cannot format table: row has ${row.length} cells, header has ${header.length}`,
      );
    }
  }
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column].length))
  );
  const pad = (cell: string, column: number) =>
    align[column] === "left" ? cell.padEnd(widths[column]) : cell.padStart(widths[column]);
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `|${
    widths.map((width, column) => `${"-".repeat(width + 1)}${align[column] === "left" ? "-" : ":"}`)
      .join("|")
  }|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/**
 * Median over repeats of `other[i] / base[i]`, using only repeats where both ran. Pairing runs
 * made back to back cancels most of the load drift of a shared machine. `undefined` when no
 * repeat has both.
 */
export function paired_ratio(
  base: readonly (number | undefined)[],
  other: readonly (number | undefined)[],
): number | undefined {
  const ratios: number[] = [];
  const count = Math.min(base.length, other.length);
  for (let index = 0; index < count; index += 1) {
    const b = base[index];
    const o = other[index];
    if (b !== undefined && o !== undefined && b > 0) ratios.push(o / b);
  }
  return ratios.length === 0 ? undefined : median(ratios);
}
