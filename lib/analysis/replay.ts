/**
 * Replays of a full capture's events through the {@link LiveTable}: the high-water mark (memray's
 * HighWatermarkFinder) and the allocations live at a point (at the peak, or at the end: leaks).
 */
import type { EventColumns } from "../capture/events.ts";
import { LiveColumns, LiveTable } from "./live_table.ts";

/** Result of {@link highWaterMark}. */
export interface HighWaterMark {
  /** Index of the last event included in the peak snapshot; -1 when there are no events. */
  peak_index: number;
  peak_bytes: number;
  /** Heap at the end of the capture (what leaked). */
  final_bytes: number;
}

/** Finds the peak of the running heap. Ties go to the latest point, as memray's. */
export function highWaterMark(events: EventColumns): HighWaterMark {
  const table = new LiveTable();
  let peak_index = -1;
  let peak_bytes = 0;
  for (let i = 0; i < events.count; i++) {
    table.apply(events.kind[i], events.addr[i], events.size[i], i, 0, 0, 0);
    if (table.heap_bytes >= peak_bytes) {
      peak_bytes = table.heap_bytes;
      peak_index = i;
    }
  }
  return { peak_index, peak_bytes, final_bytes: table.heap_bytes };
}

/** Live allocations after replaying events `0..end_index` (inclusive), by allocating event. */
export function liveAt(events: EventColumns, end_index: number): LiveColumns {
  const table = new LiveTable();
  for (let i = 0; i <= end_index && i < events.count; i++) table.applyEvent(events, i);
  return table.live();
}

/** Allocations still live when the capture ends. */
export function leaks(events: EventColumns): LiveColumns {
  return liveAt(events, events.count - 1);
}
