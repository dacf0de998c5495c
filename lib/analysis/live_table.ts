/**
 * The live set of a replay (reference §2.1): simple allocations in an open-addressing hash table
 * keyed by address over typed arrays (no Map, no object per allocation), mmap regions as ranges a
 * munmap may shrink or split (memray's IntervalTree). A missing free (address reused) replaces the
 * old allocation; deallocations of unknown addresses are ignored. Memory is bounded by the number
 * of live allocations, not by the events replayed. The one live-set implementation: full-capture
 * replays (./replay.ts), the streaming peak and `stats` all use it.
 */
import type { EventColumns } from "../capture/events.ts";
import { ALLOC_MMAP, REC_FREE, REC_MUNMAP, REC_PYMALLOC_FREE } from "../capture/records.ts";

/**
 * Live allocations as columns, one row per allocation in order of the allocating event (so rows
 * grouped by location come out in memray's first-seen order). Every piece left of a mapping that a
 * munmap split is a row of its own (same `index`), as memray's snapshot counts each remaining range
 * as an allocation.
 */
export interface LiveColumns {
  count: number;
  /** Index of the allocating event among all events in seq order (pieces of a mapping share it). */
  index: Float64Array;
  /** Live bytes (a partly unmapped mapping: what is left of it). */
  bytes: Float64Array;
  kind: Uint8Array;
  thread_id: Uint32Array;
  py_stack: Uint32Array;
  native_stack: Uint32Array;
}

/** A live mapping (or what munmap left of it): the allocating event and its stacks. */
interface Mapping {
  index: number;
  kind: number;
  thread_id: number;
  py_stack: number;
  native_stack: number;
}

interface Range {
  start: number;
  end: number;
  mapping: Mapping;
}

const EMPTY = -1;

/** Address-keyed live allocations with their heap total. */
export class LiveTable {
  heap_bytes = 0;
  /** Live simple allocations. */
  size = 0;
  #addr: Float64Array;
  #bytes: Float64Array;
  #index: Float64Array;
  #stack: Uint32Array; // py, native, thread, kind: 4 words per slot.
  #mask: number;
  #shift: number;
  #ranges: Range[] = [];

  constructor(capacity_log2 = 12) {
    const capacity = 1 << capacity_log2;
    this.#addr = new Float64Array(capacity).fill(EMPTY);
    this.#bytes = new Float64Array(capacity);
    this.#index = new Float64Array(capacity);
    this.#stack = new Uint32Array(capacity * 4);
    this.#mask = capacity - 1;
    this.#shift = 32 - capacity_log2;
  }

  #home(addr: number): number {
    const lo = addr >>> 0;
    const hi = (addr / 4294967296) | 0;
    return Math.imul((lo >>> 4) ^ (lo << 28) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>>
      this.#shift;
  }

  /** Applies event `i` of `events` (its index: `i`); returns the change of the heap in bytes. */
  applyEvent(events: EventColumns, i: number): number {
    return this.apply(
      events.kind[i],
      events.addr[i],
      events.size[i],
      i,
      events.thread[i],
      events.py_stack[i],
      events.native_stack[i],
    );
  }

  /**
   * Applies one event; returns the change of the heap in bytes. `index`, stacks and thread are
   * kept for allocations (for {@link live}).
   */
  apply(
    kind: number,
    addr: number,
    size: number,
    index: number,
    thread_id: number,
    py_stack: number,
    native_stack: number,
  ): number {
    let delta: number;
    if (kind === REC_FREE || kind === REC_PYMALLOC_FREE) {
      delta = 0 - this.#remove(addr); // Not -0 for an unknown address.
    } else if (kind === REC_MUNMAP) {
      delta = 0 - this.#unmap(addr, addr + size);
    } else if (kind === ALLOC_MMAP) {
      const mapping = { index, kind, thread_id, py_stack, native_stack };
      this.#ranges.push({ start: addr, end: addr + size, mapping });
      delta = size;
    } else {
      delta = size - this.#put(addr, size, index, thread_id, py_stack, native_stack, kind);
    }
    this.heap_bytes += delta;
    return delta;
  }

  /** Inserts or replaces; returns the replaced allocation's bytes (0 when new). */
  #put(
    addr: number,
    size: number,
    index: number,
    thread_id: number,
    py_stack: number,
    native_stack: number,
    kind: number,
  ): number {
    if ((this.size + 1) * 2 > this.#addr.length) this.#grow();
    const keys = this.#addr;
    const mask = this.#mask;
    let i = this.#home(addr);
    let old = 0;
    // Bounded by the table size; at most half full, so an empty slot is always found.
    for (let n = 0; n <= mask; n++) {
      const k = keys[i];
      if (k === EMPTY) {
        keys[i] = addr;
        this.size++;
        break;
      }
      if (k === addr) {
        old = this.#bytes[i];
        break;
      }
      i = (i + 1) & mask;
    }
    this.#bytes[i] = size;
    this.#index[i] = index;
    const s = this.#stack;
    s[4 * i] = py_stack;
    s[4 * i + 1] = native_stack;
    s[4 * i + 2] = thread_id;
    s[4 * i + 3] = kind;
    return old;
  }

  /** Removes `addr`; returns its bytes, 0 when it is not live. */
  #remove(addr: number): number {
    const keys = this.#addr;
    const mask = this.#mask;
    let i = this.#home(addr);
    for (let n = 0; n <= mask; n++) {
      const k = keys[i];
      if (k === EMPTY) return 0;
      if (k === addr) break;
      i = (i + 1) & mask;
    }
    if (keys[i] !== addr) return 0;
    const bytes = this.#bytes[i];
    this.size--;
    // Backward-shift deletion: move later members of the probe run into the hole, so lookups
    // never need tombstones.
    const s = this.#stack;
    let hole = i;
    let j = i;
    for (let n = 0; n <= mask; n++) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === EMPTY) break;
      const home = this.#home(k);
      // Entry j may fill the hole when its home is not cyclically within (hole, j].
      const movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (!movable) continue;
      keys[hole] = k;
      this.#bytes[hole] = this.#bytes[j];
      this.#index[hole] = this.#index[j];
      s[4 * hole] = s[4 * j];
      s[4 * hole + 1] = s[4 * j + 1];
      s[4 * hole + 2] = s[4 * j + 2];
      s[4 * hole + 3] = s[4 * j + 3];
      hole = j;
    }
    keys[hole] = EMPTY;
    return bytes;
  }

  #unmap(start: number, end: number): number {
    let removed = 0;
    const kept: Range[] = [];
    for (const r of this.#ranges) {
      if (r.end <= start || r.start >= end) {
        kept.push(r);
        continue;
      }
      removed += Math.min(r.end, end) - Math.max(r.start, start);
      if (r.start < start) kept.push({ start: r.start, end: start, mapping: r.mapping });
      if (r.end > end) kept.push({ start: end, end: r.end, mapping: r.mapping });
    }
    this.#ranges = kept;
    return removed;
  }

  #grow(): void {
    const keys = this.#addr;
    const bytes = this.#bytes;
    const index = this.#index;
    const stack = this.#stack;
    const capacity = keys.length * 2;
    this.#addr = new Float64Array(capacity).fill(EMPTY);
    this.#bytes = new Float64Array(capacity);
    this.#index = new Float64Array(capacity);
    this.#stack = new Uint32Array(capacity * 4);
    this.#mask = capacity - 1;
    this.#shift--;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === EMPTY) continue;
      const s = 4 * i;
      this.#put(
        keys[i],
        bytes[i],
        index[i],
        stack[s + 2],
        stack[s],
        stack[s + 1],
        stack[s + 3],
      );
    }
  }

  /** Live allocations in order of their allocating event; each piece of a mapping is a row. */
  live(): LiveColumns {
    const count = this.size + this.#ranges.length;
    const index = new Float64Array(count);
    const bytes = new Float64Array(count);
    const kind = new Uint8Array(count);
    const thread_id = new Uint32Array(count);
    const py_stack = new Uint32Array(count);
    const native_stack = new Uint32Array(count);
    const keys = this.#addr;
    const s = this.#stack;
    let n = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === EMPTY) continue;
      index[n] = this.#index[i];
      bytes[n] = this.#bytes[i];
      py_stack[n] = s[4 * i];
      native_stack[n] = s[4 * i + 1];
      thread_id[n] = s[4 * i + 2];
      kind[n] = s[4 * i + 3];
      n++;
    }
    for (const r of this.#ranges) {
      const m = r.mapping;
      index[n] = m.index;
      bytes[n] = r.end - r.start;
      py_stack[n] = m.py_stack;
      native_stack[n] = m.native_stack;
      thread_id[n] = m.thread_id;
      kind[n] = m.kind;
      n++;
    }
    if (n !== count) throw new Error(`live table holds ${n} allocations but counts ${count}`);
    const order = orderByIndex(index);
    return {
      count,
      index: permuted(index, order, new Float64Array(count)),
      bytes: permuted(bytes, order, new Float64Array(count)),
      kind: permuted(kind, order, new Uint8Array(count)),
      thread_id: permuted(thread_id, order, new Uint32Array(count)),
      py_stack: permuted(py_stack, order, new Uint32Array(count)),
      native_stack: permuted(native_stack, order, new Uint32Array(count)),
    };
  }
}

const DIGIT_BITS = 11;
const DIGITS = 1 << DIGIT_BITS;
/** Passes that cover every integer a Float64Array holds exactly (below 2^53). */
const MAX_PASSES = Math.ceil(53 / DIGIT_BITS);

/**
 * The permutation that sorts `index` (non-negative integers) ascending, stable: an LSD radix sort
 * over 11-bit digits, since a comparator sort costs about 1 s per million live allocations.
 */
function orderByIndex(index: Float64Array): Uint32Array {
  let max = 0;
  for (let k = 0; k < index.length; k++) max = Math.max(max, index[k]);
  let order = new Uint32Array(index.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  let next = new Uint32Array(index.length);
  const starts = new Uint32Array(DIGITS);
  // One pass per digit of the largest index.
  for (let scale = 1, pass = 0; scale <= max && pass < MAX_PASSES; scale *= DIGITS, pass++) {
    starts.fill(0);
    for (let k = 0; k < order.length; k++) {
      starts[Math.floor(index[order[k]] / scale) % DIGITS]++;
    }
    let sum = 0;
    for (let d = 0; d < DIGITS; d++) {
      const c = starts[d];
      starts[d] = sum;
      sum += c;
    }
    for (let k = 0; k < order.length; k++) {
      const o = order[k];
      next[starts[Math.floor(index[o] / scale) % DIGITS]++] = o;
    }
    [order, next] = [next, order];
  }
  return order;
}

function permuted<T extends Float64Array | Uint32Array | Uint8Array>(
  from: T,
  order: Uint32Array,
  to: T,
): T {
  for (let k = 0; k < order.length; k++) to[k] = from[order[k]];
  return to;
}
