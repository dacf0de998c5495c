/**
 * The peak or the leaks of a capture for an HTML page without reading its events: one native
 * fold (lib/analysis/streaming.ts `streamFold`) gives the snapshot's locations, the heap at each
 * RSS sample and the event count, exactly what the full reader's replays give
 * (tests/reader/native_fold_test.ts compares both). Temporal and temporary modes need the events.
 */
import type { CaptureInfo } from "../../../lib/capture/event_scan.ts";
import { CaptureError } from "../../../lib/capture/errors.ts";
import type { LocationRecord } from "../../../lib/analysis/locations.ts";
import { foldLocations, streamFold } from "../../../lib/analysis/streaming.ts";
import { foldedMemory, type RawMemory } from "./page_common.ts";

/** A snapshot folded natively, with what the page's stats and memory plot need. */
export interface StreamedSnapshot {
  capture: CaptureInfo;
  /** Locations live at the peak, or at the end (`leaks`), as `selectSnapshot` groups them. */
  records: LocationRecord[];
  raw: RawMemory;
  event_count: number;
}

/** Options of {@link streamedSnapshot}. */
export interface StreamedSnapshotOptions {
  /** The leaks (live at the end) instead of the peak. */
  leaks: boolean;
  merge_threads: boolean;
  /** Show a progress bar on stderr (terminal only); default true. */
  progress?: boolean;
}

/**
 * Folds `path` natively; undefined when the full reader must read it: no report library, an
 * aggregated capture, one the native decoder refuses or reads with an error (the reader then
 * reports it in its words), or a fold without the heap at each RSS sample.
 */
export async function streamedSnapshot(
  path: string,
  options: StreamedSnapshotOptions,
): Promise<StreamedSnapshot | undefined> {
  let folded;
  try {
    folded = await streamFold(path, {
      merge_threads: options.merge_threads,
      progress: options.progress,
    });
  } catch (e) {
    if (e instanceof CaptureError) return undefined;
    throw e;
  }
  if (folded === undefined) return undefined;
  const { capture, fold } = folded;
  if (fold.rss_heap.length !== capture.rss.length) return undefined;
  return {
    capture,
    records: foldLocations(options.leaks ? fold.leak_locations : fold.peak_locations),
    raw: foldedMemory(capture, fold.rss_heap, fold.peak_bytes),
    event_count: fold.event_count,
  };
}
