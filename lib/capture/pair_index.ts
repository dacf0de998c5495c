/**
 * An open-addressing hash map from (small integer, exact Number) pairs to non-negative integers,
 * over typed arrays: no object per entry, no string keys. The stack decoders use it to go from
 * (parent stack node, raw frame as written) straight to the child node, one probe per pushed frame.
 */

/** Keys must be integers: `a` in [0, 2^31), `b` in [0, 2^53). Values in [0, 2^31). */
export class PairIndex {
  #a: Int32Array;
  #b: Float64Array;
  /** Value + 1; 0 marks an empty slot. */
  #v: Int32Array;
  #mask: number;
  #shift: number;
  size = 0;

  constructor(capacity_log2 = 12) {
    const capacity = 1 << capacity_log2;
    this.#a = new Int32Array(capacity);
    this.#b = new Float64Array(capacity);
    this.#v = new Int32Array(capacity);
    this.#mask = capacity - 1;
    this.#shift = 32 - capacity_log2;
  }

  #slot(a: number, b: number): number {
    const lo = b >>> 0;
    const hi = (b / 4294967296) | 0;
    const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(a, 0xc2b2ae35), 0x9e3779b1);
    return h >>> this.#shift;
  }

  /** The value of (a, b), or -1. */
  get(a: number, b: number): number {
    const keys_a = this.#a;
    const keys_b = this.#b;
    const values = this.#v;
    const mask = this.#mask;
    // Bounded: the table is never more than half full, so an empty slot ends the probe.
    for (let i = this.#slot(a, b), n = 0; n <= mask; i = (i + 1) & mask, n++) {
      const v = values[i];
      if (v === 0) return -1;
      if (keys_a[i] === a && keys_b[i] === b) return v - 1;
    }
    return -1;
  }

  /** Sets (a, b) to `value`; the key must not be present. */
  add(a: number, b: number, value: number): void {
    if ((this.size + 1) * 2 > this.#v.length) this.#grow();
    this.#insert(a, b, value + 1);
    this.size++;
  }

  #insert(a: number, b: number, stored: number): void {
    const mask = this.#mask;
    let i = this.#slot(a, b);
    while (this.#v[i] !== 0) i = (i + 1) & mask;
    this.#a[i] = a;
    this.#b[i] = b;
    this.#v[i] = stored;
  }

  #grow(): void {
    const old_a = this.#a;
    const old_b = this.#b;
    const old_v = this.#v;
    const capacity = old_v.length * 2;
    this.#a = new Int32Array(capacity);
    this.#b = new Float64Array(capacity);
    this.#v = new Int32Array(capacity);
    this.#mask = capacity - 1;
    this.#shift--;
    for (let i = 0; i < old_v.length; i++) {
      if (old_v[i] !== 0) this.#insert(old_a[i], old_b[i], old_v[i]);
    }
  }
}
