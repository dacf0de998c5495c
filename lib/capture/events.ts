/** Event columns: one row per allocation/deallocation, typed arrays instead of objects. */

/**
 * The per-event columns both readers fill: {@link EventColumns} (all events, from the full reader)
 * and the streaming scan's batches. Row `i` of every array is one event.
 */
export interface EventRows {
  /** Record type byte: 0x01-0x0C allocator, 0x11 FREE, 0x12 MUNMAP, 0x13 PYMALLOC_FREE. */
  kind: Uint8Array;
  addr: Float64Array;
  /** Requested size; 0 for FREE/PYMALLOC_FREE. */
  size: Float64Array;
  /** Engine thread id. */
  thread: Uint32Array;
  /** Python stack node ({@link StackTree}); 0 = empty; 0 for deallocations. */
  py_stack: Uint32Array;
  /** Native stack node; 0 = empty or not captured; 0 for deallocations. */
  native_stack: Uint32Array;
}

/** Allocation and deallocation events in global `seq` order. */
export interface EventColumns extends EventRows {
  count: number;
  seq: Float64Array;
}

/** Appends events, doubling its arrays as needed. */
export class EventBuilder implements EventColumns {
  count = 0;
  seq: Float64Array;
  kind: Uint8Array;
  addr: Float64Array;
  size: Float64Array;
  thread: Uint32Array;
  py_stack: Uint32Array;
  native_stack: Uint32Array;

  constructor(capacity = 1 << 16) {
    this.seq = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.addr = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.thread = new Uint32Array(capacity);
    this.py_stack = new Uint32Array(capacity);
    this.native_stack = new Uint32Array(capacity);
  }

  push(
    seq: number,
    kind: number,
    addr: number,
    size: number,
    thread: number,
    py_stack: number,
    native_stack: number,
  ): void {
    if (this.count === this.seq.length) this.#grow(this.count * 2);
    const i = this.count++;
    this.seq[i] = seq;
    this.kind[i] = kind;
    this.addr[i] = addr;
    this.size[i] = size;
    this.thread[i] = thread;
    this.py_stack[i] = py_stack;
    this.native_stack[i] = native_stack;
  }

  #grow(cap: number): void {
    const g = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, b: T): T => {
      b.set(a.subarray(0, this.count) as never);
      return b;
    };
    this.seq = g(this.seq, new Float64Array(cap));
    this.kind = g(this.kind, new Uint8Array(cap));
    this.addr = g(this.addr, new Float64Array(cap));
    this.size = g(this.size, new Float64Array(cap));
    this.thread = g(this.thread, new Uint32Array(cap));
    this.py_stack = g(this.py_stack, new Uint32Array(cap));
    this.native_stack = g(this.native_stack, new Uint32Array(cap));
  }

  /**
   * Returns the columns ordered by seq. Each thread's events are already in seq order, so this is
   * a k-way merge of per-thread runs; when the file order is already sorted (one thread, or threads
   * that never interleave) no copy is made at all.
   */
  finishInSeqOrder(): EventColumns {
    const n = this.count;
    const seq = this.seq;
    let sorted = true;
    for (let i = 1; i < n; i++) {
      if (seq[i] <= seq[i - 1]) {
        sorted = false;
        break;
      }
    }
    const trim = <T extends Float64Array | Uint8Array | Uint32Array>(a: T): T =>
      a.subarray(0, n) as T;
    if (sorted) {
      return {
        count: n,
        seq: trim(this.seq),
        kind: trim(this.kind),
        addr: trim(this.addr),
        size: trim(this.size),
        thread: trim(this.thread),
        py_stack: trim(this.py_stack),
        native_stack: trim(this.native_stack),
      };
    }
    const order = mergeOrder(this);
    const gather = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, b: T): T => {
      for (let i = 0; i < n; i++) b[i] = a[order[i]];
      return b;
    };
    return {
      count: n,
      seq: gather(this.seq, new Float64Array(n)),
      kind: gather(this.kind, new Uint8Array(n)),
      addr: gather(this.addr, new Float64Array(n)),
      size: gather(this.size, new Float64Array(n)),
      thread: gather(this.thread, new Uint32Array(n)),
      py_stack: gather(this.py_stack, new Uint32Array(n)),
      native_stack: gather(this.native_stack, new Uint32Array(n)),
    };
  }
}

/** Merge order of per-thread runs by seq (a binary heap of thread cursors). */
function mergeOrder(b: EventBuilder): Uint32Array {
  const n = b.count;
  const slot_of = new Map<number, number>();
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = b.thread[i];
    let s = slot_of.get(t);
    if (s === undefined) {
      s = counts.length;
      slot_of.set(t, s);
      counts.push(0);
    }
    counts[s]++;
  }
  const k = counts.length;
  const starts = new Uint32Array(k + 1);
  for (let s = 0; s < k; s++) starts[s + 1] = starts[s] + counts[s];
  const fill = starts.slice(0, k);
  const by_thread = new Uint32Array(n);
  for (let i = 0; i < n; i++) by_thread[fill[slot_of.get(b.thread[i])!]++] = i;
  const pos = starts.slice(0, k);
  const heap: number[] = [];
  const key = (s: number) => b.seq[by_thread[pos[s]]];
  const less = (x: number, y: number) => key(heap[x]) < key(heap[y]);
  const swap = (x: number, y: number) => ([heap[x], heap[y]] = [heap[y], heap[x]]);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let s = 0; s < k; s++) if (counts[s] > 0) heap.push(s);
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const order = new Uint32Array(n);
  for (let out = 0; out < n; out++) {
    const s = heap[0];
    order[out] = by_thread[pos[s]++];
    if (pos[s] === starts[s + 1]) {
      heap[0] = heap[heap.length - 1];
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
  return order;
}
