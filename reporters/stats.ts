/** `stats`: whole-run statistics, on the terminal or as JSON (memray's StatsReporter). */
import { UsageError } from "../lib/capture/errors.ts";
import type { CaptureInfo } from "../lib/capture/event_scan.ts";
import { Location, Statistics } from "../lib/analysis/stats.ts";
import { streamStatistics } from "../lib/analysis/streaming.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import { pythonAwareDatetime, sizeFmt, stdoutSink, TextSink } from "./format.ts";

/** memray's refusal (reference §1.3). */
export const AGGREGATED_STATS_MESSAGE =
  "Can't compute statistics using a pre-aggregated capture file.";

/** Options of {@link runStats}. */
export interface StatsOptions {
  capturePath: string;
  /** Write JSON instead of the terminal report. */
  json?: boolean;
  /** Entries in the top lists (default 5, must be > 0). */
  numLargest?: number;
  /** JSON output path (default `memray-stats-<capture name>.json`, "memray-" prefix stripped). */
  outputPath?: string;
  /** Overwrite an existing JSON output file. */
  force?: boolean;
  /** Where terminal output and notices go (default: the process stdout). */
  stdout?: TextSink;
  /**
   * Whether stdout is a terminal (default: `Deno.stdout.isTerminal()`). As memray: bold headings
   * on a terminal; elsewhere the blank line its finished progress bar leaves comes first.
   */
  stdoutIsTerminal?: boolean;
  /**
   * The report's stacks (the CLI's `--debug-dir`, `--no-debuginfod`); default: its own. A
   * capture with native traces names its top locations by the leaf of the merged stack.
   */
  stacks?: ReportStacks;
}

/**
 * Runs the stats report. Returns the JSON path when JSON was written. Throws {@link UsageError}
 * (bad -n, output exists without --force, an aggregated capture) or a `CaptureError`.
 */
export async function runStats(options: StatsOptions): Promise<string | undefined> {
  const n = options.numLargest ?? 5;
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${n} is an invalid positive int value`);
  const out = options.stdout ?? stdoutSink;
  const output = options.json
    ? (options.outputPath ?? defaultJsonPath(options.capturePath))
    : undefined;
  if (output !== undefined && !options.force && await exists(output)) {
    throw new UsageError(`File already exists, will not overwrite: ${output}`);
  }
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  // Streamed: the events are folded as they are decoded, never kept.
  const { capture, stats } = await withReportStacks(
    options.stacks,
    (stacks) => streamStatistics(options.capturePath, n, { stacks }),
  );
  if (stats === undefined || capture.header.aggregated) {
    throw new UsageError(AGGREGATED_STATS_MESSAGE);
  }
  // memray's transient progress bar leaves one empty line where it cannot erase itself.
  const lead = terminal ? "" : "\n";
  if (output === undefined) {
    out(lead + renderStatsText(stats, n, { bold: terminal }));
    return undefined;
  }
  await Deno.writeTextFile(output, pythonJsonDump(statsJson(capture, stats)));
  out(`${lead}Wrote ${output}\n`);
  return output;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** memray's default: `memray-stats-<name>.json` next to the input, "memray-" prefix stripped. */
export function defaultJsonPath(capture_path: string): string {
  const slash = capture_path.lastIndexOf("/");
  const dir = slash >= 0 ? capture_path.slice(0, slash + 1) : "";
  let base = capture_path.slice(slash + 1);
  if (base.startsWith("memray-")) base = base.slice("memray-".length);
  return `${dir}memray-stats-${base}.json`;
}

function minOf(xs: Iterable<number>): number {
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}

function maxOf(xs: Iterable<number>): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function formatLocation([func, file, line]: Location): string {
  if (func === "<unknown>") return "<stack trace unavailable>";
  return `${func}:${file}:${line}`;
}

/**
 * Python's `a // b` on floats, bit for bit (CPython's `float_floor_div`): the quotient is formed
 * from the exact remainder, which differs from `Math.floor(a / b)` when `a / b` rounds up onto an
 * integer (a size on a bin edge).
 */
export function pythonFloorDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError("float floor division by zero");
  let mod = a % b; // fmod: exact.
  let div = (a - mod) / b;
  if (mod !== 0) {
    if ((b < 0) !== (mod < 0)) {
      mod += b;
      div -= 1;
    }
  }
  if (div === 0) return Math.sign(a / b) < 0 || Object.is(a / b, -0) ? -0 : 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/** Histogram bins over log sizes: [upper bound, count] per bin (memray's get_histogram_databins). */
export function histogramBins(data: Map<number, number>, bins: number): [number, number][] {
  const nonzero = [...data.keys()].filter((s) => s > 0);
  let low = Math.log(nonzero.length ? minOf(nonzero) : 1);
  const high = Math.log(Math.max(maxOf(data.keys()), 1));
  if (low === high) low = low / 2;
  const step = (high - low) / bins;
  const steps = Array.from({ length: bins }, (_, i) => Math.trunc(Math.exp(low + step * (i + 1))));
  const dist = new Array(bins).fill(0);
  for (const [size, count] of data) {
    const b = size ? Math.min(Math.trunc(pythonFloorDiv(Math.log(size) - low, step)), bins - 1) : 0;
    dist[Math.max(b, 0)] += count;
  }
  return steps.map((s, i) => [s, dist[i]]);
}

function drawHistogram(data: Map<number, number>, bins: number, scale: number): string {
  if (data.size === 0) return "<no data for histogram>";
  const databins = histogramBins(data, bins);
  const max_bin = Math.max(...databins.map(([, c]) => c));
  const scaled = databins.map(([, c]) => Math.ceil((c / max_bin) * scale));
  const size_width = 9;
  const freq_width = Math.max(...databins.map(([, c]) => String(c).length));
  const width = 2 + size_width + 2 + freq_width + 1 + scale;
  const parts = [`min: ${sizeFmt(minOf(data.keys()))}`, "\n\t", "-".repeat(width), "\n\t"];
  databins.forEach(([bound, count], i) => {
    const op = i === databins.length - 1 ? "<=" : "< ";
    parts.push(`${op}${sizeFmt(bound).padEnd(size_width)}:`);
    parts.push(` ${String(count).padStart(freq_width)} `);
    parts.push("▇".repeat(scaled[i]));
    parts.push("\n\t");
  });
  parts.push("-".repeat(width), `\n\tmax: ${sizeFmt(maxOf(data.keys()))}`);
  return parts.join("");
}

function allocatorDistribution(stats: Statistics): [string, number][] {
  return [...stats.allocation_count_by_allocator].sort((a, b) => b[1] - a[1]);
}

/** A heading as memray's `rich.print("<emoji> [bold]...[/]")` shows it. */
function heading(emoji: string, text: string, bold: boolean): string {
  if (!bold) return `${emoji} ${text}`;
  // rich's highlighter also styles numbers (bold cyan) and each parenthesis apart.
  const m = /^Top (\d+) (.*) \((.*)\):$/.exec(text);
  if (m === null) return `${emoji} \x1b[1m${text}\x1b[0m`;
  const b = (t: string) => `\x1b[1m${t}\x1b[0m`;
  return `${emoji} ${b("Top ")}\x1b[1;36m${m[1]}\x1b[0m${b(` ${m[2]} `)}${b("(")}${b(m[3])}${
    b(")")
  }${b(":")}`;
}

/** The terminal report, line for line as `memray stats` (headings in bold when `bold`). */
export function renderStatsText(
  stats: Statistics,
  num_largest: number,
  options: { bold?: boolean } = {},
): string {
  const h = (emoji: string, text: string) => heading(emoji, text, options.bold ?? false);
  const l: string[] = [];
  l.push(h("📏", "Total allocations:"), `\t${stats.total_num_allocations}`, "");
  l.push(h("📦", "Total memory allocated:"), `\t${sizeFmt(stats.total_memory_allocated)}`, "");
  l.push(h("📈", "Peak memory usage:"), `\t${sizeFmt(stats.peak_memory)}`, "");
  l.push(h("📊", "Histogram of allocation size:"));
  l.push(`\t${drawHistogram(stats.allocation_count_by_size, 10, 25)}`, "");
  l.push(h("📂", "Allocator type distribution:"));
  for (const [name, count] of allocatorDistribution(stats)) l.push(`\t ${name}: ${count}`);
  l.push("");
  l.push(h("🥇", `Top ${num_largest} largest allocating locations (by size):`));
  for (const [loc, size] of stats.top_locations_by_size) {
    l.push(`\t- ${formatLocation(loc)} -> ${sizeFmt(size)}`);
  }
  l.push("");
  l.push(h("🥇", `Top ${num_largest} largest allocating locations (by number of allocations):`));
  for (const [loc, count] of stats.top_locations_by_count) {
    l.push(`\t- ${formatLocation(loc)} -> ${count}`);
  }
  const module_lists: [typeof stats.top_modules_by_size, string][] = [
    [stats.top_modules_by_size, "by size"],
    [stats.top_modules_by_count, "by number of allocations"],
  ];
  for (const [modules, label] of module_lists) {
    if (modules.length === 0) continue; // memray leaves an empty list out, heading and all.
    l.push("", h("🥇", `Top ${num_largest} allocating modules (${label}):`));
    for (const m of modules) {
      l.push(`\t- ${m.module}: ${sizeFmt(m.total_bytes)} total | ${m.num_allocations} allocations`);
    }
  }
  return l.join("\n") + "\n";
}

/** memray's metadata names of the Python allocator (`_create_metadata`). */
const METADATA_ALLOCATOR_NAMES: Record<string, string> = {
  pymalloc: "pymalloc",
  pymalloc_debug: "pymalloc debug",
  mimalloc: "mimalloc",
  mimalloc_debug: "mimalloc debug",
  malloc: "malloc",
  other: "unknown",
};

/** The Python allocator of a capture's metadata as memray prints it ("unknown" for others). */
export function metadataAllocatorName(python_allocator: unknown): string {
  return METADATA_ALLOCATOR_NAMES[String(python_allocator)] ?? "unknown";
}

/**
 * `json.dump(data, f, indent=2)`: JSON.stringify's layout is Python's for these values; Python
 * also escapes every non-ASCII UTF-16 unit (`ensure_ascii`).
 */
export function pythonJsonDump(data: unknown): string {
  return JSON.stringify(data, null, 2).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The JSON document, with exactly memray's keys. */
export function statsJson(capture: CaptureInfo, stats: Statistics): Record<string, unknown> {
  const bins = histogramBins(stats.allocation_count_by_size, 10);
  let start = 0;
  const histogram = bins.map(([end, count], i) => {
    const row = { min_bytes: start, max_bytes: end - (i === bins.length - 1 ? 0 : 1), count };
    start = end;
    return row;
  });
  const h = capture.header;
  const md = h.metadata;
  return {
    total_num_allocations: stats.total_num_allocations,
    total_bytes_allocated: stats.total_memory_allocated,
    allocation_size_histogram: stats.allocation_count_by_size.size ? histogram : [],
    allocator_type_distribution: Object.fromEntries(allocatorDistribution(stats)),
    top_allocations_by_size: stats.top_locations_by_size.map(([loc, size]) => ({
      location: formatLocation(loc),
      size,
    })),
    top_allocations_by_count: stats.top_locations_by_count.map(([loc, count]) => ({
      location: formatLocation(loc),
      count,
    })),
    top_modules_by_allocation_size: stats.top_modules_by_size,
    top_modules_by_allocation_count: stats.top_modules_by_count,
    metadata: {
      start_time: pythonAwareDatetime(h.start_time_ms),
      end_time: pythonAwareDatetime(h.end_time_ms),
      total_allocations: stats.total_records,
      total_frames: stats.total_frames,
      peak_memory: stats.peak_memory,
      command_line: md.command_line ?? "",
      pid: h.pid,
      main_thread_id: capture.main_thread_id,
      python_allocator: metadataAllocatorName(md.python_allocator),
      has_native_traces: h.native_traces,
      trace_python_allocators: h.trace_python_allocators,
      file_format: h.aggregated ? 1 : 0,
    },
  };
}
