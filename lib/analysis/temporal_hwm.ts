/**
 * The temporal high-water mark (memray's HighWaterMarkAggregator and UsageHistory): one replay that
 * numbers the peaks of the heap — a peak ends on the falling edge after the heap reached its last
 * peak, and every snapshot boundary starts a new one — remembers which peak was the highest of
 * each snapshot interval, and keeps per location the bytes and allocations it contributed to the
 * latest peak it has seen plus its change since. Only changes of a location's contribution from
 * one snapshot to the next are stored, so memory stays bounded by locations times changes.
 */
import type { Capture } from "../capture/reader.ts";
import { ALLOC_MMAP, REC_FREE, REC_MUNMAP, REC_PYMALLOC_FREE } from "../capture/records.ts";
import type { TemporalInterval } from "./temporal.ts";
import type { LocationIds } from "./temporal_locations.ts";
import { MappedRanges } from "./temporal_ranges.ts";

/** A location's contribution to the highest peak of snapshots from `as_of_snapshot` on. */
interface Contribution {
  as_of_snapshot: number;
  /** The peak number; -1 for the final (leaked) contribution. */
  peak: number;
  allocations: number;
  bytes: number;
}

/** The running state of one location (memray's UsageHistoryImpl; copied by value). */
interface State {
  snapshot: number;
  peak: number;
  allocations_at_peak: number;
  bytes_at_peak: number;
  count_since_peak: number;
  bytes_since_peak: number;
}

/** Moves `s` to `peak`: changes since the last peak it knew are part of the new one. */
function rebase(s: State, peak: number): void {
  if (s.peak === peak) return;
  if (peak < s.peak) throw new Error(`peak ${peak} is before the location's peak ${s.peak}`);
  s.allocations_at_peak += s.count_since_peak;
  s.bytes_at_peak += s.bytes_since_peak;
  s.count_since_peak = 0;
  s.bytes_since_peak = 0;
  s.peak = peak;
}

/**
 * Appends to `out` the contributions of `s` to snapshots completed since it last changed (only
 * those that differ from the previous one; an empty list means nothing contributed); returns the
 * advanced state. Like memray, it steps one snapshot at a time only while allocations made after a
 * snapshot's peak are pending, and otherwise jumps to the current snapshot.
 */
function completeSnapshots(
  state: State,
  peak_by_snapshot: number[],
  out: Contribution[],
): State {
  const s = { ...state };
  const current = peak_by_snapshot.length;
  for (let n = 0; s.snapshot !== current && n <= current; n++) {
    const peak = peak_by_snapshot[s.snapshot];
    rebase(s, peak);
    const c = {
      as_of_snapshot: s.snapshot,
      peak,
      allocations: s.allocations_at_peak,
      bytes: s.bytes_at_peak,
    };
    const last = out.at(-1);
    const changed = last === undefined
      ? c.allocations !== 0 || c.bytes !== 0
      : last.allocations !== c.allocations || last.bytes !== c.bytes;
    if (changed) out.push(c);
    s.snapshot = s.count_since_peak !== 0 ? s.snapshot + 1 : current;
  }
  if (s.snapshot !== current) throw new Error("snapshot history did not reach the current one");
  return s;
}

class UsageHistory {
  state: State = {
    snapshot: 0,
    peak: 0,
    allocations_at_peak: 0,
    bytes_at_peak: 0,
    count_since_peak: 0,
    bytes_since_peak: 0,
  };
  contributions: Contribution[] = [];

  record(peak_by_snapshot: number[], peak: number, count: number, bytes: number): void {
    if (this.state.snapshot < peak_by_snapshot.length) {
      this.state = completeSnapshots(this.state, peak_by_snapshot, this.contributions);
    }
    rebase(this.state, peak);
    this.state.count_since_peak += count;
    this.state.bytes_since_peak += bytes;
  }

  /** All contributions, closed with the one to the final peak and the leaked one. */
  final(peak_by_snapshot: number[], final_peak: number): Contribution[] {
    const out = [...this.contributions];
    let s = this.state;
    if (s.snapshot < peak_by_snapshot.length) s = completeSnapshots(s, peak_by_snapshot, out);
    else s = { ...s };
    rebase(s, final_peak);
    s.snapshot = peak_by_snapshot.length;
    const hwm = { allocations: s.allocations_at_peak, bytes: s.bytes_at_peak };
    const leaks = {
      allocations: hwm.allocations + s.count_since_peak,
      bytes: hwm.bytes + s.bytes_since_peak,
    };
    const differs = (c: { allocations: number; bytes: number }) => {
      const last = out.at(-1);
      return last === undefined || last.allocations !== c.allocations || last.bytes !== c.bytes;
    };
    // Unlike completed snapshots, an empty list gets even a zero contribution here (memray's).
    if (differs(hwm)) out.push({ as_of_snapshot: s.snapshot, peak: final_peak, ...hwm });
    if (differs(leaks)) out.push({ as_of_snapshot: s.snapshot + 1, peak: -1, ...leaks });
    return out;
  }
}

/**
 * Replays a full capture; returns each location's intervals and the heap peak per snapshot.
 * With `stride` n > 0 only RSS samples 0, n, 2n, ... are snapshot boundaries.
 */
export function highWaterMarkHistory(
  capture: Capture,
  ids: LocationIds,
  stride: number,
): { rows: { location: number; interval: TemporalInterval }[]; hwm_bytes_by_snapshot: number[] } {
  const ev = capture.events;
  const rss = capture.rss;
  const peak_by_snapshot: number[] = [];
  const bytes_by_snapshot: number[] = [];
  const histories = new Map<number, UsageHistory>();
  let peak_count = 0;
  let heap_at_last_peak = 0;
  let heap = 0;
  const delta = (j: number, count: number, bytes: number) => {
    const next = heap + bytes;
    if (heap >= heap_at_last_peak && next < heap) {
      peak_count++; // The falling edge of a peak not yet counted.
      heap_at_last_peak = heap;
    }
    heap = next;
    const id = ids.of(j);
    let h = histories.get(id);
    if (h === undefined) histories.set(id, h = new UsageHistory());
    h.record(peak_by_snapshot, peak_count, count, bytes);
  };
  const live = new Map<number, number>(); // address -> allocating event
  const ranges = new MappedRanges<number>();
  let r = 0;
  for (let i = 0; i < ev.count; i++) {
    for (; r < rss.length && rss[r].seq < ev.seq[i]; r++) {
      if (stride !== 0 && r % stride !== 0) continue; // Only every n-th sample is a boundary.
      const rising = heap >= heap_at_last_peak;
      peak_by_snapshot.push(rising ? peak_count + 1 : peak_count);
      bytes_by_snapshot.push(rising ? heap : heap_at_last_peak);
      // A boundary counts as a peak even when the heap is below an earlier one.
      peak_count++;
      heap_at_last_peak = heap;
    }
    const kind = ev.kind[i];
    const addr = ev.addr[i];
    if (kind === REC_FREE || kind === REC_PYMALLOC_FREE) {
      const j = live.get(addr);
      if (j === undefined) continue; // A free of an unknown address.
      delta(j, -1, -ev.size[j]);
      live.delete(addr);
    } else if (kind === REC_MUNMAP) {
      for (const x of ranges.remove(addr, ev.size[i])) {
        const count = x.how === "freed" ? -1 : x.how === "split" ? 1 : 0;
        delta(x.mapping, count, -x.bytes);
      }
    } else {
      delta(i, 1, ev.size[i]);
      // A missing free: the overwritten allocation keeps its contribution (memray's).
      if (kind === ALLOC_MMAP) ranges.add(addr, ev.size[i], i);
      else live.set(addr, i);
    }
  }
  const final_peak = heap >= heap_at_last_peak ? peak_count + 1 : peak_count;
  const rows: { location: number; interval: TemporalInterval }[] = [];
  for (const [location, h] of histories) {
    const contributions = h.final(peak_by_snapshot, final_peak);
    contributions.forEach((c, k) => {
      const next = contributions[k + 1];
      rows.push({
        location,
        interval: {
          allocated_before_snapshot: c.as_of_snapshot,
          deallocated_before_snapshot: next === undefined ? null : next.as_of_snapshot,
          n_allocations: c.allocations,
          n_bytes: c.bytes,
        },
      });
    });
  }
  return { rows, hwm_bytes_by_snapshot: [...bytes_by_snapshot, heap_at_last_peak] };
}
