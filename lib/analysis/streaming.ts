/**
 * Reports over a capture without keeping its events: `stats` and the peak snapshot fold the
 * events, streamed in seq order ({@link scanEvents}), into state bounded by the distinct stacks
 * and the live allocations. memray 1.20 captures and aggregated captures go through the full
 * reader instead (the latter hold no events to stream).
 */
import { CaptureInfo, EventBatch, scanEvents } from "../capture/event_scan.ts";
import { openCapture, OpenedCapture } from "../capture/open.ts";
import { ProgressBar } from "../capture/progress.ts";
import { readCaptureBytes } from "../capture/reader.ts";
import { LiveTable } from "./live_table.ts";
import { groupColumns, type LocationRecord } from "./locations.ts";
import { selectSnapshot, Snapshot } from "./snapshot.ts";
import { computeStatistics, finishStatistics, Statistics, StatsAccumulator } from "./stats.ts";

/** Options of the streaming reports. */
export interface StreamOptions {
  /** Show a progress bar on stderr (terminal only, after 1 s); default true. */
  progress?: boolean;
}

function bar(options: StreamOptions, label: string): ProgressBar {
  return new ProgressBar({ label, enabled: options.progress === false ? false : undefined });
}

/** `stats` of a capture file: the capture (without events) and its statistics. */
export async function streamStatistics(
  path: string,
  num_largest: number,
  options: StreamOptions = {},
): Promise<{ capture: CaptureInfo; stats: Statistics | undefined }> {
  const opened = await openCapture(path);
  if (opened.header === undefined || opened.header.aggregated) {
    const capture = readCaptureBytes(opened.bytes, path);
    // Aggregated captures have no statistics; the caller refuses them.
    const stats = capture.header.aggregated ? undefined : computeStatistics(capture, num_largest);
    return { capture, stats };
  }
  const acc = new StatsAccumulator();
  const progress = bar(options, "Computing statistics");
  try {
    const { capture } = scanEvents(opened.bytes, opened.header, path, {
      compressed: opened.compressed,
      onBatch: (batch) => acc.add(batch),
      onProgress: (f) => progress.update(f),
    });
    return { capture, stats: finishStatistics(capture, acc, num_largest) };
  } finally {
    progress.done();
  }
}

/**
 * The high-water-mark snapshot of a capture file (memray's peak): a first pass finds the peak, a
 * second replays up to it and groups the allocations live there by location.
 */
export async function streamPeakSnapshot(
  path: string,
  options: StreamOptions & { merge_threads: boolean },
): Promise<{ capture: CaptureInfo; snapshot: Snapshot }> {
  const opened = await openCapture(path);
  if (opened.header === undefined || opened.header.aggregated) {
    const capture = readCaptureBytes(opened.bytes, path);
    const snapshot = selectSnapshot(capture, {
      mode: "high_water_mark",
      merge_threads: options.merge_threads,
    });
    return { capture, snapshot };
  }
  const progress = bar(options, "Finding the peak");
  try {
    return peakOfOpened(opened, options.merge_threads, (f) => progress.update(f));
  } finally {
    progress.done();
  }
}

function peakOfOpened(
  opened: OpenedCapture,
  merge_threads: boolean,
  onProgress: (fraction: number) => void,
): { capture: CaptureInfo; snapshot: Snapshot } {
  const header = opened.header!;
  // Pass 1: the peak (ties go to the latest event, as memray's).
  const first = new LiveTable();
  let peak_index = -1;
  let peak_bytes = 0;
  scanEvents(opened.bytes, header, opened.path, {
    onBatch: (b) => {
      const { kind, addr, size } = b;
      for (let i = 0; i < b.count; i++) {
        first.apply(kind[i], addr[i], size[i], 0, 0, 0, 0);
        if (first.heap_bytes >= peak_bytes) {
          peak_bytes = first.heap_bytes;
          peak_index = b.first_index + i;
        }
      }
    },
    onProgress: (f) => onProgress(f / 2),
  });
  // Pass 2: replay up to the peak, keeping each live allocation's stacks.
  const live = new LiveTable();
  const { capture } = scanEvents(opened.bytes, header, opened.path, {
    compressed: opened.compressed,
    onBatch: (b) => replayUntil(live, b, peak_index),
    onProgress: (f) => onProgress(0.5 + f / 2),
  });
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
