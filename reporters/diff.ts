/**
 * `diff BASE NEW`: per-location heap growth between two captures, on the terminal or as JSON
 * ({@link DIFF_JSON_SCHEMA}); the data the differential flame graph draws.
 */
import { UsageError } from "../lib/capture/errors.ts";
import { readCapture } from "../lib/capture/reader.ts";
import { diffCaptures, DiffFrame, DiffLocation, HeapDiff } from "../lib/analysis/diff.ts";
import { ReportStacks, withReportStacks } from "../lib/analysis/report_stacks.ts";
import { sizeFmt, stdoutSink, TextSink } from "./format.ts";

/** Options of {@link runDiff}. */
export interface DiffOptions {
  basePath: string;
  newPath: string;
  /** Compare what leaked (live at the end) instead of what was live at the peak. */
  leaks?: boolean;
  /** Write the JSON document to stdout instead of the table. */
  json?: boolean;
  /** Rows of the table (default: every changed location; must be > 0). */
  maxRows?: number;
  /** ANSI colours (default: when stdout is a terminal). */
  color?: boolean;
  /** The report's stacks (the CLI's `--debug-dir`, `--no-debuginfod`); default: its own. */
  stacks?: ReportStacks;
  stdout?: TextSink;
}

/** Version of the JSON document; bumped on any incompatible change. */
export const DIFF_JSON_VERSION = 1;

const SIDE_SCHEMA = {
  type: "object",
  required: ["path", "heap_bytes", "total_bytes", "total_count", "locations"],
  properties: {
    path: { type: "string" },
    heap_bytes: { type: "integer" },
    total_bytes: { type: "integer" },
    total_count: { type: "integer" },
    locations: { type: "integer" },
  },
};

/**
 * The JSON document `diff --json` writes (JSON Schema draft-07 keywords). `frames` is a table of
 * distinct frames; a location's `stack` lists indices into it, root first. `locations` are
 * sorted by `delta_bytes` (biggest growth first), then `new_bytes`; unchanged ones included.
 */
export const DIFF_JSON_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "memray-deno heap diff",
  type: "object",
  required: ["version", "mode", "base", "new", "totals", "frames", "locations"],
  properties: {
    version: { const: DIFF_JSON_VERSION },
    mode: { enum: ["high_water_mark", "leaks"] },
    base: { $ref: "#/definitions/side" },
    new: { $ref: "#/definitions/side" },
    totals: {
      type: "object",
      required: ["delta_bytes", "delta_count", "added", "removed", "grown", "shrunk", "unchanged"],
      properties: {
        delta_bytes: { type: "integer" },
        delta_count: { type: "integer" },
        added: { type: "integer" },
        removed: { type: "integer" },
        grown: { type: "integer" },
        shrunk: { type: "integer" },
        unchanged: { type: "integer" },
      },
    },
    frames: {
      type: "array",
      items: {
        type: "object",
        required: ["function", "filename", "lineno"],
        properties: {
          function: { type: "string" },
          filename: { type: "string" },
          lineno: { type: "integer" },
        },
      },
    },
    locations: {
      type: "array",
      items: {
        type: "object",
        required: [
          "status",
          "stack",
          "base_bytes",
          "base_count",
          "new_bytes",
          "new_count",
          "delta_bytes",
          "delta_count",
        ],
        properties: {
          status: { enum: ["added", "removed", "grown", "shrunk", "unchanged"] },
          stack: { type: "array", items: { type: "integer" } },
          base_bytes: { type: "integer" },
          base_count: { type: "integer" },
          new_bytes: { type: "integer" },
          new_count: { type: "integer" },
          delta_bytes: { type: "integer" },
          delta_count: { type: "integer" },
        },
      },
    },
  },
  definitions: { side: SIDE_SCHEMA },
};

/** The JSON document of a diff (see {@link DIFF_JSON_SCHEMA}). */
export function diffJson(diff: HeapDiff): Record<string, unknown> {
  // The JSON frame table keeps its schema's three fields (the kind is for the HTML page).
  const frames: Omit<DiffFrame, "kind">[] = [];
  const index = new Map<string, number>();
  const frameIndex = (f: DiffFrame) => {
    const key = `${f.function}\0${f.filename}\0${f.lineno}`;
    let i = index.get(key);
    if (i === undefined) {
      i = frames.length;
      frames.push({ function: f.function, filename: f.filename, lineno: f.lineno });
      index.set(key, i);
    }
    return i;
  };
  const locations = diff.locations.map((l) => ({ ...l, stack: l.stack.map(frameIndex) }));
  return {
    version: DIFF_JSON_VERSION,
    mode: diff.mode,
    base: diff.base,
    new: diff.new,
    totals: diff.totals,
    frames,
    locations,
  };
}

const signed = (n: number) => (n > 0 ? `+${n}` : `${n}`);
const signedSize = (
  n: number,
) => (n > 0 ? `+${sizeFmt(n)}` : n < 0 ? `-${sizeFmt(-n)}` : sizeFmt(0));

/** "leaf at file:line ← caller at file:line ← …", at most three frames. */
export function locationText(stack: readonly DiffFrame[]): string {
  if (stack.length === 0) return "<unknown>";
  const shown = stack.slice(-3).reverse().map((f) => `${f.function} at ${f.filename}:${f.lineno}`);
  return shown.join(" ← ") + (stack.length > 3 ? " ← …" : "");
}

/** Renders the terminal report: summary lines, then changed locations by growth. */
export function renderDiffText(
  diff: HeapDiff,
  options: { color: boolean; maxRows?: number },
): string {
  const paint = (ansi: string, text: string) => options.color ? `${ansi}${text}\x1b[0m` : text;
  const where = diff.mode === "leaks" ? "leaked" : "at the peak";
  const t = diff.totals;
  const pct = diff.base.total_bytes > 0
    ? ` (${signed(Number(((100 * t.delta_bytes) / diff.base.total_bytes).toFixed(2)))} %)`
    : "";
  const sideLine = (label: string, s: HeapDiff["base"]) =>
    `${label} ${s.path}: ${sizeFmt(s.total_bytes)} ${where} in ${s.total_count} allocations ` +
    `from ${s.locations} locations`;
  const lines = [
    paint("\x1b[1m", `Heap diff (${diff.mode === "leaks" ? "leaks" : "high-water mark"})`),
    sideLine("Base:", diff.base),
    sideLine("New: ", diff.new),
    `Change: ${signedSize(t.delta_bytes)}${pct}, ${signed(t.delta_count)} allocations`,
    `Locations: ${t.added} added, ${t.removed} removed, ${t.grown} grown, ${t.shrunk} shrunk, ` +
    `${t.unchanged} unchanged`,
    "",
  ];
  const changed = diff.locations.filter((l) => l.status !== "unchanged");
  if (changed.length === 0) return lines.join("\n") + "No location changed.\n";
  const rows = changed.slice(0, options.maxRows ?? changed.length);
  const header = ["Change", "Base", "New", "Allocations", "Status", "Location"];
  const cells = rows.map((l: DiffLocation) => [
    signedSize(l.delta_bytes),
    sizeFmt(l.base_bytes),
    sizeFmt(l.new_bytes),
    signed(l.delta_count),
    l.status,
    locationText(l.stack),
  ]);
  const widths = header.slice(0, 5).map((h, i) =>
    Math.max(h.length, ...cells.map((c) => c[i].length))
  );
  const row = (c: string[], ansi = "") =>
    c.slice(0, 5).map((v, i) => {
      const padded = i === 4 ? v.padEnd(widths[i]) : v.padStart(widths[i]);
      return i === 0 && ansi !== "" ? paint(ansi, padded) : padded;
    }).join("  ") + "  " + c[5];
  lines.push(paint("\x1b[1m", row(header)));
  rows.forEach((l, i) => {
    lines.push(row(cells[i], l.delta_bytes > 0 ? "\x1b[31m" : l.delta_bytes < 0 ? "\x1b[32m" : ""));
  });
  if (rows.length < changed.length) {
    lines.push(`… ${changed.length - rows.length} more changed locations (see --max-rows)`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs the diff report. Throws {@link UsageError} for a bad `maxRows` and a `CaptureError` (one
 * line) for a capture that cannot be read.
 */
export async function runDiff(options: DiffOptions): Promise<void> {
  if (
    options.maxRows !== undefined && (!Number.isInteger(options.maxRows) || options.maxRows <= 0)
  ) {
    throw new UsageError(`${options.maxRows} is an invalid positive int value`);
  }
  const base = await readCapture(options.basePath);
  const now = await readCapture(options.newPath);
  const mode = options.leaks ? "leaks" : "high_water_mark";
  const diff = await withReportStacks(options.stacks, async (stacks) => {
    return diffCaptures(base, now, mode, {
      base: await stacks.open(base),
      now: await stacks.open(now),
    });
  });
  const out = options.stdout ?? stdoutSink;
  if (options.json) {
    out(JSON.stringify(diffJson(diff), null, 2) + "\n");
    return;
  }
  out(renderDiffText(diff, {
    color: options.color ?? Deno.stdout.isTerminal(),
    maxRows: options.maxRows,
  }));
}
