/**
 * Location ids of the temporal aggregators (memray's HighWaterMarkLocationKey): thread (0 when
 * threads are merged), Python stack, native stack and allocator of an allocating event.
 */
import type { EventColumns } from "../capture/events.ts";
import type { TemporalInterval, TemporalLocation } from "./temporal.ts";

/** Node ids below this pack into one number key; larger ones take a string key. */
const PACK = 2 ** 26;

interface Key {
  thread_id: number;
  py_stack: number;
  native_stack: number;
  allocator: number;
}

/** Interns the locations of allocating events to small ids. */
export class LocationIds {
  readonly keys: Key[] = [];
  #small = new Map<number, Map<number, number>>();
  #big = new Map<string, number>();

  constructor(readonly events: EventColumns, readonly merge_threads: boolean) {}

  /** The location id of allocating event `i`. */
  of(i: number): number {
    const ev = this.events;
    const thread_id = this.merge_threads ? 0 : ev.thread[i];
    const allocator = ev.kind[i];
    const py = ev.py_stack[i];
    const native = ev.native_stack[i];
    const owner = thread_id * 256 + allocator;
    if (py < PACK && native < PACK) {
      let inner = this.#small.get(owner);
      if (inner === undefined) this.#small.set(owner, inner = new Map());
      const found = inner.get(py * PACK + native);
      if (found !== undefined) return found;
      const id = this.#intern({ thread_id, py_stack: py, native_stack: native, allocator });
      inner.set(py * PACK + native, id);
      return id;
    }
    const key = `${owner}:${py}:${native}`;
    const found = this.#big.get(key);
    if (found !== undefined) return found;
    const id = this.#intern({ thread_id, py_stack: py, native_stack: native, allocator });
    this.#big.set(key, id);
    return id;
  }

  #intern(key: Key): number {
    this.keys.push(key);
    return this.keys.length - 1;
  }

  /**
   * Groups intervals by location, in memray's order: locations by (thread, Python stack, native
   * stack, allocator); intervals by allocated_before, then deallocated_before (null last), then
   * bytes.
   */
  locations(rows: { location: number; interval: TemporalInterval }[]): TemporalLocation[] {
    const by_location = new Map<number, TemporalInterval[]>();
    for (const row of rows) {
      let list = by_location.get(row.location);
      if (list === undefined) by_location.set(row.location, list = []);
      list.push(row.interval);
    }
    const ids = [...by_location.keys()].sort((a, b) => compareKeys(this.keys[a], this.keys[b]));
    return ids.map((id) => ({
      ...this.keys[id],
      intervals: by_location.get(id)!.sort(compareIntervals),
    }));
  }
}

function compareKeys(a: Key, b: Key): number {
  return a.thread_id - b.thread_id || a.py_stack - b.py_stack ||
    a.native_stack - b.native_stack || a.allocator - b.allocator;
}

function compareIntervals(a: TemporalInterval, b: TemporalInterval): number {
  const end = (x: TemporalInterval) => x.deallocated_before_snapshot ?? Infinity;
  return a.allocated_before_snapshot - b.allocated_before_snapshot ||
    (end(a) === end(b) ? 0 : end(a) < end(b) ? -1 : 1) || a.n_bytes - b.n_bytes;
}
