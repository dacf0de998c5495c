/**
 * Reports over a capture without keeping its events: `stats` and the peak snapshot fold the
 * events, in seq order, into state bounded by the distinct stacks and the live allocations. The
 * fold runs natively in one pass when the report library loads (lib/capture/native_fold.ts);
 * otherwise, or for a capture the native fold leaves to it, the events are streamed by
 * {@link scanEvents} and folded here. memray 1.20 captures are folded natively the same way
 * (lib/memray_format/fold.ts), or streamed by lib/memray_format/scan.ts without the report
 * library (or when the native decoder refuses one). Aggregated captures, which hold no events,
 * go through the full reader.
 */
import { CaptureInfo, EventBatch, scanEvents } from "../capture/event_scan.ts";
import { foldNative, NativeFoldResult } from "../capture/native_fold.ts";
import { openCapture, OpenedCapture } from "../capture/open.ts";
import { ALLOCATOR_NAMES } from "../capture/records.ts";
import { CaptureFold, loadReportLib, ReportLib } from "../ffi.ts";
import { ProgressBar } from "../capture/progress.ts";
import { foldMemrayCapture } from "../memray_format/fold.ts";
import { isAggregatedMemray, scanMemrayEvents } from "../memray_format/scan.ts";
import { Capture, readCaptureBytes } from "../capture/reader.ts";
import { readMemrayCaptureBytes } from "../memray_format/reader.ts";
import { LiveTable } from "./live_table.ts";
import type { ReportStacks } from "./report_stacks.ts";
import { groupColumns, type LocationRecord } from "./locations.ts";
import { selectSnapshot, Snapshot } from "./snapshot.ts";
import {
  finishStatistics,
  StackTotal,
  Statistics,
  StatsAccumulator,
  StatsTotals,
} from "./stats.ts";

/** Options of the streaming reports. */
export interface StreamOptions {
  /** Show a progress bar on stderr (terminal only, after 1 s); default true. */
  progress?: boolean;
  /**
   * Fold natively through the report library when it loads (default true); false always takes
   * the TypeScript scan (the fallback, and the reference the native fold is tested against).
   */
  native?: boolean;
}

/** The report library, unless `options` says no or it cannot be loaded. */
async function nativeLib(options: StreamOptions): Promise<ReportLib | undefined> {
  if (options.native === false) return undefined;
  return await loadReportLib().catch(() => undefined);
}

/** Whether `opened` is an aggregated capture (ours or memray's): no events to stream. */
function isAggregated(opened: OpenedCapture): boolean {
  if (opened.header === undefined) return isAggregatedMemray(opened.bytes, opened.path);
  return opened.header.aggregated;
}

/**
 * Streams the events of `opened` (not aggregated) in seq order; returns the capture without
 * them. `onBatch` may return false to stop a scan of ours early (a memray scan goes on, and its
 * caller ignores the rest).
 */
function scanOpened(
  opened: OpenedCapture,
  onBatch: (batch: EventBatch) => boolean | void,
  onProgress: (fraction: number) => void,
): CaptureInfo {
  if (opened.header === undefined) {
    return scanMemrayEvents(opened.bytes, opened.path, opened.compressed, (b) => {
      onBatch(b);
    });
  }
  return scanEvents(opened.bytes, opened.header, opened.path, {
    compressed: opened.compressed,
    onBatch,
    onProgress,
  }).capture;
}

/** Reads all of `opened` (an aggregated capture), events included. */
function readWhole(opened: OpenedCapture): Capture {
  if (opened.header === undefined) {
    return readMemrayCaptureBytes(opened.bytes, opened.path, opened.compressed);
  }
  return { ...readCaptureBytes(opened.bytes, opened.path), compressed: opened.compressed };
}

/**
 * Folds `opened` natively; undefined when the TypeScript scan (or, for an aggregated capture or
 * a memray capture the native decoder refuses, the full reader) must do it.
 */
async function foldOpened(
  opened: OpenedCapture,
  lib: ReportLib | undefined,
  merge_threads: boolean,
  progress: ProgressBar,
): Promise<NativeFoldResult | undefined> {
  if (lib === undefined || opened.header?.aggregated) return undefined;
  const fold_options = {
    lib,
    merge_threads,
    compressed: opened.compressed,
    onProgress: (f: number) => progress.update(f),
  };
  if (opened.header === undefined) {
    return await foldMemrayCapture(opened.bytes, opened.path, fold_options);
  }
  return await foldNative(opened.bytes, opened.header, opened.path, fold_options);
}

/** The native fold's totals as {@link finishStatistics} reads them. */
function foldTotals(fold: CaptureFold): StatsTotals {
  return {
    total: fold.alloc_count,
    bytes: fold.alloc_bytes,
    peak_bytes: fold.peak_bytes,
    events: fold.event_count,
    sizeCounts: () => {
      const out = new Map<number, number>();
      const a = fold.stats_sizes;
      for (let i = 0; i < a.length; i += 2) out.set(a[i], a[i + 1]);
      return out;
    },
    allocatorCounts: () => {
      const out = new Map<string, number>();
      const a = fold.stats_kinds;
      for (let i = 0; i < a.length; i += 2) out.set(ALLOCATOR_NAMES[a[i]], a[i + 1]);
      return out;
    },
    stacks: () => {
      const out: StackTotal[] = [];
      const a = fold.stats_nodes;
      for (let i = 0; i < a.length; i += 4) out.push([a[i], a[i + 1], a[i + 2], a[i + 3]]);
      return out;
    },
  };
}

/** The native fold's locations live at the peak. */
function foldPeak(fold: CaptureFold): Snapshot {
  return { records: foldLocations(fold.peak_locations), heap_bytes: fold.peak_bytes };
}

/** A fold's location sextuples (`peak_locations`, `leak_locations`) as records. */
export function foldLocations(a: Float64Array): LocationRecord[] {
  const records: LocationRecord[] = [];
  for (let i = 0; i < a.length; i += 6) {
    records.push({
      py_stack: a[i],
      native_stack: a[i + 1],
      thread_id: a[i + 2],
      allocator: a[i + 3],
      size_bytes: a[i + 4],
      count: a[i + 5],
    });
  }
  return records;
}

function bar(options: StreamOptions, label: string): ProgressBar {
  return new ProgressBar({ label, enabled: options.progress === false ? false : undefined });
}

/** Options of {@link streamStatistics}. */
export interface StatsStreamOptions extends StreamOptions {
  /**
   * Where the stacks of a capture with native traces come from: its top locations are then the
   * leaves of the merged native+Python stacks. Without it (or for a capture without native
   * traces), the leaf Python frames, as memray 1.20's stats.
   */
  stacks?: ReportStacks;
}

/** `stats` of a capture file: the capture (without events) and its statistics. */
export async function streamStatistics(
  path: string,
  num_largest: number,
  options: StatsStreamOptions = {},
): Promise<{ capture: CaptureInfo; stats: Statistics | undefined }> {
  const lib = await nativeLib(options);
  const opened = await openCapture(path, { lib });
  const progress = bar(options, "Computing statistics");
  let capture: CaptureInfo;
  let totals: StatsTotals | undefined;
  try {
    const folded = await foldOpened(opened, lib, false, progress);
    if (folded !== undefined) {
      capture = folded.capture;
      totals = foldTotals(folded.fold);
    } else if (isAggregated(opened)) {
      // Aggregated captures have no statistics; the caller refuses them.
      capture = readWhole(opened);
    } else {
      const acc = new StatsAccumulator();
      capture = scanOpened(opened, (batch) => acc.add(batch), (f) => progress.update(f));
      totals = acc;
    }
  } finally {
    progress.done();
  }
  if (totals === undefined) return { capture, stats: undefined };
  // Stacks (symbolizer, debuginfod) are opened only for the captures whose locations need them,
  // once the progress bar is gone (opening them may warn).
  const stacks = capture.header.native_traces ? await options.stacks?.open(capture) : undefined;
  return { capture, stats: finishStatistics(capture, totals, num_largest, stacks) };
}

/**
 * The high-water-mark snapshot of a capture file (memray's peak). Natively in one pass; the
 * TypeScript fallback finds the peak in a first pass, replays up to it in a second and groups
 * the allocations live there by location.
 */
export async function streamPeakSnapshot(
  path: string,
  options: StreamOptions & { merge_threads: boolean },
): Promise<{ capture: CaptureInfo; snapshot: Snapshot }> {
  const lib = await nativeLib(options);
  const opened = await openCapture(path, { lib });
  const progress = bar(options, "Finding the peak");
  try {
    const folded = await foldOpened(opened, lib, options.merge_threads, progress);
    if (folded !== undefined) return { capture: folded.capture, snapshot: foldPeak(folded.fold) };
    if (isAggregated(opened)) {
      const capture = readWhole(opened);
      const snapshot = selectSnapshot(capture, {
        mode: "high_water_mark",
        merge_threads: options.merge_threads,
      });
      return { capture, snapshot };
    }
    return peakOfOpened(opened, options.merge_threads, (f) => progress.update(f));
  } finally {
    progress.done();
  }
}

/**
 * The native fold of a capture file (not aggregated) with its info, for reports that need more of
 * it than {@link streamPeakSnapshot} gives (the HTML pages: the leaks, the heap at each RSS
 * sample). Undefined when the report library does not load or the capture needs a TypeScript
 * reader (aggregated, or one the native decoder refuses).
 */
export async function streamFold(
  path: string,
  options: StreamOptions & { merge_threads: boolean },
): Promise<NativeFoldResult | undefined> {
  const lib = await nativeLib(options);
  if (lib === undefined) return undefined;
  const opened = await openCapture(path, { lib });
  const progress = bar(options, "Reading the capture");
  try {
    return await foldOpened(opened, lib, options.merge_threads, progress);
  } finally {
    progress.done();
  }
}

function peakOfOpened(
  opened: OpenedCapture,
  merge_threads: boolean,
  onProgress: (fraction: number) => void,
): { capture: CaptureInfo; snapshot: Snapshot } {
  // Pass 1: the peak (ties go to the latest event, as memray's).
  const first = new LiveTable();
  let peak_index = -1;
  let peak_bytes = 0;
  scanOpened(opened, (b) => {
    const { kind, addr, size } = b;
    for (let i = 0; i < b.count; i++) {
      first.apply(kind[i], addr[i], size[i], 0, 0, 0, 0);
      if (first.heap_bytes >= peak_bytes) {
        peak_bytes = first.heap_bytes;
        peak_index = b.first_index + i;
      }
    }
  }, (f) => onProgress(f / 2));
  // Pass 2: replay up to the peak, keeping each live allocation's stacks.
  const live = new LiveTable();
  const capture = scanOpened(
    opened,
    (b) => replayUntil(live, b, peak_index),
    (f) => onProgress(0.5 + f / 2),
  );
  return { capture, snapshot: { records: groupLive(live, merge_threads), heap_bytes: peak_bytes } };
}

/** Applies the batch's events up to `last_index`; false once past it (the scan stops). */
function replayUntil(live: LiveTable, b: EventBatch, last_index: number): boolean {
  const n = Math.min(b.count, last_index - b.first_index + 1);
  for (let i = 0; i < n; i++) {
    live.apply(
      b.kind[i],
      b.addr[i],
      b.size[i],
      b.first_index + i,
      b.thread[i],
      b.py_stack[i],
      b.native_stack[i],
    );
  }
  return n === b.count;
}

/**
 * Groups live allocations by (Python stack, native stack, thread or 0 when merged), in order of
 * the first allocation, as {@link import("./locations.ts").groupByLocation}.
 */
export function groupLive(live: LiveTable, merge_threads: boolean): LocationRecord[] {
  const a = live.live();
  return groupColumns(a, { count: a.count, bytes: a.bytes }, merge_threads);
}
