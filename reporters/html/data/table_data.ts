/**
 * The table report's data (reference §2.4): snapshot records grouped by (thread unless merged,
 * allocator lowercased, top frame "func at file:line" or "???"), biggest first.
 */
import type { Capture } from "../../../lib/capture/reader.ts";
import type { CaptureInfo } from "../../../lib/capture/event_scan.ts";
import type { LocationRecord } from "../../../lib/analysis/locations.ts";
import { ALLOCATOR_NAMES } from "../../../lib/capture/records.ts";
import { type StackFrames, StackResolver } from "../../../lib/analysis/stack_resolver.ts";
import { PageMode, StringTable, TablePageData } from "./common.ts";
import { type PageFacts, pageFacts, PageFactsOptions } from "./page_common.ts";

/** Options of {@link buildTableData}. */
export interface TableDataOptions extends PageFactsOptions {
  mode: PageMode;
  /** False with `--split-threads`. */
  merge_threads: boolean;
  /** The capture's stacks (merged native frames for `--native`); default: its Python stacks. */
  stacks?: StackFrames;
  /** The stats and memory series, for a capture read without its events; default: replayed. */
  facts?: PageFacts;
}

/** memray's `format_thread_name`: "0x<tid> (<name>)" or "0x<tid>". */
export function threadLabel(capture: Pick<Capture, "threads">, thread_id: number): string {
  const name = capture.threads.get(thread_id)?.name;
  const hex = `0x${thread_id.toString(16)}`;
  return name ? `${hex} (${name})` : hex;
}

/**
 * The record's top frame as memray's table writes it: of its merged stack for `--native`
 * captures (CPython's own frames dropped, as every report here does), else of its Python stack
 * (launcher hidden on the main thread). A native frame without line information is named by its
 * module.
 */
export function topFrameText(stacks: StackFrames, record: LocationRecord): string {
  const frames = stacks.frames(record.py_stack, record.native_stack, record.thread_id);
  if (frames.length === 0) return "???";
  const f = frames[0];
  const file = f.kind === "native" && f.file === "" ? f.module ?? "" : f.file;
  return `${f.function} at ${file}:${f.line}`;
}

/** The page title memray gives the table in each mode. */
export function tableTitle(mode: PageMode): string {
  if (mode === "leaks") return "memray table report (memory leaks)";
  if (mode === "temporary") return "memray table report (temporary allocations)";
  return "memray table report";
}

/**
 * Builds the table page's data from the snapshot's records. A capture read without its events
 * needs `options.facts`.
 */
export function buildTableData(
  capture: Capture | CaptureInfo,
  records: readonly LocationRecord[],
  options: TableDataOptions,
): TablePageData {
  const strings = new StringTable();
  const stacks = options.stacks ?? StackResolver.python(capture);
  const groups = new Map<
    string,
    {
      thread: number;
      allocator: number;
      location: number;
      size: number;
      count: number;
      first: number;
    }
  >();
  records.forEach((r, first) => {
    const thread = strings.intern(options.merge_threads ? "" : threadLabel(capture, r.thread_id));
    const name = ALLOCATOR_NAMES[r.allocator] ?? `unknown_${r.allocator}`;
    const allocator = strings.intern(name.toLowerCase());
    const location = strings.intern(topFrameText(stacks, r));
    const key = `${thread}:${allocator}:${location}`;
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { thread, allocator, location, size: r.size_bytes, count: r.count, first });
    } else {
      g.size += r.size_bytes;
      g.count += r.count;
    }
  });
  // Biggest first; equal sizes keep the order of their first record.
  const sorted = [...groups.values()].sort((a, b) => b.size - a.size || a.first - b.first);
  const facts = options.facts ?? pageFactsOfRead(capture, options);
  const notes = [...facts.notes];
  const h = capture.header;
  if (
    options.mode === "leaks" && facts.stats.python_allocator === "pymalloc" &&
    !h.trace_python_allocators
  ) {
    notes.unshift(
      'This report uses "--leaks" while the Python allocator was pymalloc and the capture was ' +
        "made without --trace-python-allocators: memory pymalloc keeps in its pools shows as " +
        "leaked. Run with PYTHONMALLOC=malloc or --trace-python-allocators for exact leaks.",
    );
  }
  // Re-intern in row order so the string table is deterministic and compact.
  const out = new StringTable();
  const texts = strings.strings;
  return {
    kind: "table",
    title: tableTitle(options.mode),
    mode: options.mode,
    merge_threads: options.merge_threads,
    stats: facts.stats,
    memory: facts.memory,
    notes,
    rows: {
      thread: sorted.map((g) => out.intern(texts[g.thread])),
      size_bytes: sorted.map((g) => g.size),
      allocator: sorted.map((g) => out.intern(texts[g.allocator])),
      n_allocations: sorted.map((g) => g.count),
      location: sorted.map((g) => out.intern(texts[g.location])),
    },
    strings: out.strings,
  };
}

function pageFactsOfRead(capture: Capture | CaptureInfo, options: PageFactsOptions): PageFacts {
  if (!("events" in capture)) throw new Error("buildTableData needs facts without the events");
  return pageFacts(capture, options);
}
