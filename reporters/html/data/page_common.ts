/**
 * The parts of a page's data every HTML report shares: the stats panel and the memory-over-time
 * series (RSS and heap at each RSS sample), capped as memray's `--max-memory-records` and
 * downsampled for the plot.
 */
import type { Capture } from "../../../lib/capture/reader.ts";
import type { CaptureInfo } from "../../../lib/capture/event_scan.ts";
import { LiveTable } from "../../../lib/analysis/live_table.ts";
import { metadataAllocatorName } from "../../stats.ts";
import { MAX_MEMORY_POINTS, PageMemory, PageStats } from "./common.ts";

/** memray's FileReader default cap on kept memory records. */
export const DEFAULT_MAX_MEMORY_RECORDS = 10000;

/** A series before downsampling: time, RSS and heap of each sample, and the heap's peak. */
export interface RawMemory {
  time_ms: number[];
  rss_bytes: number[];
  heap_bytes: number[];
  /** The highest heap over all events (not only at samples). */
  peak_bytes: number;
}

/**
 * The heap at each RSS sample of a capture: aggregated captures carry it (HEAP_SAMPLE); full
 * captures are replayed, the heap at a sample being that after every event with a lower seq.
 */
export function rawMemory(capture: Capture): RawMemory {
  const start = capture.header.start_time_ms;
  const out: RawMemory = { time_ms: [], rss_bytes: [], heap_bytes: [], peak_bytes: 0 };
  if (capture.header.aggregated) {
    for (const s of capture.heap_samples) {
      out.time_ms.push(start + s.time_offset_ms);
      out.rss_bytes.push(s.rss_bytes);
      out.heap_bytes.push(s.heap_bytes);
      out.peak_bytes = Math.max(out.peak_bytes, s.heap_bytes);
    }
    // The LOCATION records hold what was live at the peak; samples may miss the peak itself.
    let at_peak = 0;
    for (const l of capture.locations) at_peak += l.peak_bytes;
    out.peak_bytes = Math.max(out.peak_bytes, at_peak);
    return out;
  }
  const ev = capture.events;
  const samples = [...capture.rss].sort((a, b) => a.seq - b.seq);
  const live = new LiveTable();
  let next = 0;
  for (let i = 0; i <= ev.count; i++) {
    const seq = i < ev.count ? ev.seq[i] : Infinity;
    while (next < samples.length && samples[next].seq < seq) {
      out.time_ms.push(start + samples[next].time_offset_ms);
      out.rss_bytes.push(samples[next].rss_bytes);
      out.heap_bytes.push(live.heap_bytes);
      next++;
    }
    if (i === ev.count) break;
    live.apply(ev.kind[i], ev.addr[i], ev.size[i], 0, 0, 0, 0);
    if (live.heap_bytes > out.peak_bytes) out.peak_bytes = live.heap_bytes;
  }
  return out;
}

/**
 * The series of {@link rawMemory} from a native fold of a full capture: `rss_heap[k]` is the heap
 * at `capture.rss[k]` (after every event with a lower seq), `peak_bytes` the heap's highest.
 */
export function foldedMemory(
  capture: CaptureInfo,
  rss_heap: ArrayLike<number>,
  peak_bytes: number,
): RawMemory {
  const rss = capture.rss;
  if (rss_heap.length !== rss.length) {
    throw new Error(`native fold gave ${rss_heap.length} heap samples for ${rss.length} RSS ones`);
  }
  const start = capture.header.start_time_ms;
  // Stable, as rawMemory's sort of the samples.
  const order = rss.map((_, k) => k).sort((a, b) => rss[a].seq - rss[b].seq);
  return {
    time_ms: order.map((k) => start + rss[k].time_offset_ms),
    rss_bytes: order.map((k) => rss[k].rss_bytes),
    heap_bytes: order.map((k) => rss_heap[k]),
    peak_bytes,
  };
}

/** Keeps at most `max_records` samples, evenly strided, as memray's FileReader does. */
export function capRecords(raw: RawMemory, max_records: number): RawMemory {
  const n = raw.time_ms.length;
  if (!(max_records > 0) || n <= max_records) return raw;
  const pick = <T>(a: T[]) =>
    Array.from({ length: max_records }, (_, k) => a[pickIndex(k, n, max_records)]);
  return {
    time_ms: pick(raw.time_ms),
    rss_bytes: pick(raw.rss_bytes),
    heap_bytes: pick(raw.heap_bytes),
    peak_bytes: raw.peak_bytes,
  };
}

function pickIndex(k: number, n: number, m: number): number {
  // First and last samples are always kept.
  return m === 1 ? n - 1 : Math.round((k * (n - 1)) / (m - 1));
}

function argmax(a: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < a.length; i++) if (best < 0 || a[i] > a[best]) best = i;
  return best;
}

/**
 * Downsamples to at most `max_points` points: consecutive samples are bucketed, each bucket
 * keeping its first time and its highest RSS and heap, so no peak is lost.
 */
export function downsampleMemory(raw: RawMemory, max_points = MAX_MEMORY_POINTS): PageMemory {
  const n = raw.time_ms.length;
  if (n <= max_points) {
    return {
      time_ms: raw.time_ms,
      rss_bytes: raw.rss_bytes,
      heap_bytes: raw.heap_bytes,
      peak_heap_index: argmax(raw.heap_bytes),
      peak_rss_index: argmax(raw.rss_bytes),
    };
  }
  const time_ms: number[] = [];
  const rss_bytes: number[] = [];
  const heap_bytes: number[] = [];
  for (let b = 0; b < max_points; b++) {
    const lo = Math.floor((b * n) / max_points);
    const hi = Math.floor(((b + 1) * n) / max_points);
    let rss = 0;
    let heap = 0;
    for (let i = lo; i < hi; i++) {
      rss = Math.max(rss, raw.rss_bytes[i]);
      heap = Math.max(heap, raw.heap_bytes[i]);
    }
    time_ms.push(raw.time_ms[lo]);
    rss_bytes.push(rss);
    heap_bytes.push(heap);
  }
  return {
    time_ms,
    rss_bytes,
    heap_bytes,
    downsampled_from: n,
    peak_heap_index: argmax(heap_bytes),
    peak_rss_index: argmax(rss_bytes),
  };
}

/** Options of {@link pageFacts}. */
export interface PageFactsOptions {
  /** memray's `--max-memory-records` (default 10000). */
  max_memory_records?: number;
  /** Points of the plot (default {@link MAX_MEMORY_POINTS}). */
  max_points?: number;
}

/** The stats panel and memory series of a page, and the notes they call for. */
export interface PageFacts {
  stats: PageStats;
  memory: PageMemory;
  notes: string[];
}

/** The stats panel and memory series of a capture, and the notes they call for. */
export function pageFacts(capture: Capture, options: PageFactsOptions = {}): PageFacts {
  const events = capture.header.aggregated ? undefined : capture.events.count;
  return pageFactsOf(capture, rawMemory(capture), events, options);
}

/**
 * {@link pageFacts} of a capture read without its events: `raw` is its memory series (from
 * {@link foldedMemory}), `event_count` its events (undefined for an aggregated capture).
 */
export function pageFactsOf(
  capture: CaptureInfo,
  raw: RawMemory,
  event_count: number | undefined,
  options: PageFactsOptions = {},
): PageFacts {
  const capped = capRecords(raw, options.max_memory_records ?? DEFAULT_MAX_MEMORY_RECORDS);
  const memory = downsampleMemory(capped, options.max_points ?? MAX_MEMORY_POINTS);
  const notes: string[] = [];
  if (memory.downsampled_from !== undefined) {
    notes.push(
      `The memory plot shows ${memory.time_ms.length} points summarising ` +
        `${memory.downsampled_from} samples (the highest value of each span is kept).`,
    );
  }
  const h = capture.header;
  const md = h.metadata;
  const stats: PageStats = {
    command: md.command_line ?? (md.argv ?? []).join(" "),
    start_ms: h.start_time_ms,
    end_ms: Math.max(h.end_time_ms, h.start_time_ms),
    peak_bytes: raw.peak_bytes,
    python_allocator: metadataAllocatorName(md.python_allocator),
    pid: h.pid,
    native_traces: h.native_traces,
    aggregated: h.aggregated,
  };
  if (event_count !== undefined) stats.total_allocations = event_count;
  return { stats, memory, notes };
}
