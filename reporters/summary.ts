/** `summary`: a rich-like table of functions with total/own memory and counts at the peak. */
import { UsageError } from "../lib/capture/errors.ts";
import { readCapture } from "../lib/capture/reader.ts";
import type { CaptureInfo } from "../lib/capture/event_scan.ts";
import { selectSnapshot, Snapshot } from "../lib/analysis/snapshot.ts";
import { streamPeakSnapshot } from "../lib/analysis/streaming.ts";
import { FunctionTotals, functionTotals } from "../lib/analysis/summary.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import { sizeFmt, stdoutSink, TextSink } from "./format.ts";

/** Options of {@link runSummary}. */
export interface SummaryOptions {
  capturePath: string;
  /** 1..5: Total Memory, Total Memory %, Own Memory, Own Memory %, Allocation Count (default 1). */
  sortColumn?: number;
  /** Rows to show (default: terminal lines - 5, at least 10; 19 when not a terminal). */
  maxRows?: number;
  /** ANSI colours and bold headings as rich's (default: when stdout is a terminal). */
  color?: boolean;
  /**
   * Whether stdout is a terminal (default: `Deno.stdout.isTerminal()`). Elsewhere, as memray, two
   * blank lines come first: the two progress bars it cannot erase there.
   */
  stdoutIsTerminal?: boolean;
  /** Report temporary allocations with this threshold instead of the peak (-1 or unset: off). */
  temporaryAllocationThreshold?: number;
  /** The report's stacks (the CLI's `--debug-dir`, `--no-debuginfod`); default: its own. */
  stacks?: ReportStacks;
  stdout?: TextSink;
}

const HEADERS = [
  "Location",
  "Total Memory",
  "Total Memory %",
  "Own Memory",
  "Own Memory % ", // Sic: memray's column name ends in a space.
  "Allocation Count",
];

/**
 * Runs the summary report, at the high-water mark or (with a threshold) over temporary
 * allocations. Throws {@link UsageError} for a bad sort column and for temporary allocations of an
 * aggregated capture.
 */
export async function runSummary(options: SummaryOptions): Promise<void> {
  const sort = options.sortColumn ?? 1;
  if (!Number.isInteger(sort) || sort < 1 || sort > 5) {
    throw new UsageError("The --sort-column argument must be between 1 and 5");
  }
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  let rows = options.maxRows;
  if (rows === undefined) {
    let lines = 24;
    if (terminal) {
      try {
        lines = Deno.consoleSize().rows;
      } catch { /* not a terminal after all */ }
    }
    rows = Math.max(lines - 5, 10);
  }
  const threshold = options.temporaryAllocationThreshold ?? -1;
  // As memray: the peak merges threads, temporary allocations keep them apart. The peak is
  // streamed (events folded as decoded, never kept); temporary allocations read every event.
  const { capture, snapshot } = threshold >= 0
    ? await temporarySnapshot(options.capturePath, threshold)
    : await streamPeakSnapshot(options.capturePath, { merge_threads: true });
  const totals = await withReportStacks(options.stacks, async (stacks) => {
    return functionTotals(capture, snapshot.records, await stacks.open(capture));
  });
  let total_allocations = 0;
  for (const r of snapshot.records) total_allocations += r.count;
  (options.stdout ?? stdoutSink)(
    (terminal ? "" : "\n\n") +
      renderSummaryTable(totals, snapshot.heap_bytes, {
        sortColumn: sort,
        maxRows: rows,
        color: options.color ?? terminal,
        totalAllocations: total_allocations,
      }),
  );
}

async function temporarySnapshot(
  path: string,
  threshold: number,
): Promise<{ capture: CaptureInfo; snapshot: Snapshot }> {
  const capture = await readCapture(path);
  const snapshot = selectSnapshot(capture, {
    mode: "temporary",
    merge_threads: false,
    temporary_threshold: threshold,
  });
  return { capture, snapshot };
}

/** memray's `_size_to_color` as ANSI: red, yellow, green, bright green. */
function ratioColor(ratio: number): string {
  if (ratio > 0.6) return "\x1b[31m";
  if (ratio > 0.2) return "\x1b[33m";
  if (ratio > 0.05) return "\x1b[32m";
  return "\x1b[92m";
}

/**
 * Renders the table with rich's default box (heavy head), cells and colours as memray's. Unlike
 * rich (`expand=True`, ratio columns), columns take their natural width and never wrap.
 */
export function renderSummaryTable(
  totals: FunctionTotals[],
  heap_bytes: number,
  options: { sortColumn: number; maxRows: number; color: boolean; totalAllocations?: number },
): string {
  const key: (r: FunctionTotals) => number = options.sortColumn <= 2
    ? (r) => r.total_bytes
    : options.sortColumn <= 4
    ? (r) => r.own_bytes
    : (r) => r.count;
  const sorted = [...totals].sort((a, b) => key(b) - key(a)).slice(0, options.maxRows);
  const pct = (n: number) => (heap_bytes > 0 ? (100 * n) / heap_bytes : 0);
  const ratio = (n: number, of: number) => (of > 0 ? n / of : 0);
  const total_allocations = options.totalAllocations ??
    totals.reduce((n, r) => Math.max(n, r.count), 0);
  const cell = (text: string, ansi: string) => ({ text, ansi: options.color ? ansi : "" });
  const headers = HEADERS.map((h, i) => (i === options.sortColumn ? `<${h}>` : h));
  const body = sorted.map((r) => {
    const total = ratioColor(ratio(r.total_bytes, heap_bytes));
    const own = ratioColor(ratio(r.own_bytes, heap_bytes));
    return [
      {
        text: `${r.function} at ${r.file}`,
        ansi: "",
        styled: `\x1b[1;35m${r.function}\x1b[0m at \x1b[36m${r.file}\x1b[0m`,
      },
      cell(sizeFmt(r.total_bytes), total),
      cell(`${pct(r.total_bytes).toFixed(2)}%`, total),
      cell(sizeFmt(r.own_bytes), own),
      cell(`${pct(r.own_bytes).toFixed(2)}%`, own),
      cell(String(r.count), ratioColor(ratio(r.count, total_allocations))),
    ];
  });
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...body.map((row) => row[i].text.length))
  );
  const line = (l: string, fill: string, mid: string, r: string) =>
    l + widths.map((w) => fill.repeat(w + 2)).join(mid) + r;
  const pad = (text: string, i: number) =>
    i === 0 ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  const bold = (text: string) => options.color ? `\x1b[1m${text}\x1b[0m` : text;
  const out = [line("┏", "━", "┳", "┓")];
  out.push("┃" + headers.map((h, i) => ` ${bold(pad(h, i))} `).join("┃") + "┃");
  out.push(line("┡", "━", "╇", "┩"));
  for (const row of body) {
    const cells = row.map((c, i) => {
      const padding = " ".repeat(widths[i] - c.text.length);
      if (i === 0) {
        const styled = options.color && "styled" in c ? c.styled as string : c.text;
        return ` ${styled}${padding} `;
      }
      return c.ansi ? ` ${padding}${c.ansi}${c.text}\x1b[0m ` : ` ${padding}${c.text} `;
    });
    out.push("│" + cells.join("│") + "│");
  }
  out.push(line("└", "─", "┴", "┘"));
  return out.join("\n") + "\n";
}
