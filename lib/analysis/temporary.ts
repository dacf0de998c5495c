/**
 * Temporary allocations (memray's TemporaryAllocationsAggregator): an allocation is temporary when
 * its own thread frees it within `threshold` further allocations of that thread.
 */
import type { EventColumns } from "../capture/events.ts";
import { isAllocation, REC_MUNMAP } from "../capture/records.ts";

/**
 * Event indices of temporary allocations, in the order their deallocations were seen. Every
 * thread keeps its most recent `threshold + 1` allocations; a deallocation on that thread that
 * matches one of them (address, and for munmap also the size) makes it temporary.
 */
export function temporaryAllocations(events: EventColumns, threshold: number): number[] {
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(`temporary allocation threshold ${threshold} is not a natural number`);
  }
  const max_items = threshold + 1;
  const recent = new Map<number, number[]>();
  const found: number[] = [];
  for (let i = 0; i < events.count; i++) {
    const thread = events.thread[i];
    let buffer = recent.get(thread);
    if (buffer === undefined) {
      buffer = [];
      recent.set(thread, buffer);
    }
    const kind = events.kind[i];
    if (isAllocation(kind)) {
      if (buffer.length === max_items) buffer.shift();
      buffer.push(i);
      continue;
    }
    const addr = events.addr[i];
    const ranged = kind === REC_MUNMAP;
    // The most recent match wins, and it stays in the buffer: memray's aggregator searches its
    // deque newest first and keeps matched allocations, so they go on taking up slots.
    for (let k = buffer.length - 1; k >= 0; k--) {
      const j = buffer[k];
      if (events.addr[j] !== addr) continue;
      if (ranged && events.size[j] !== events.size[i]) continue;
      found.push(j);
      break;
    }
  }
  return found;
}
