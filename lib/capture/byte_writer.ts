/** A growable byte buffer with the capture format's primitive encodings (the writer's Cursor). */

const encoder = new TextEncoder();

/** Appends little-endian primitives, varints and length-prefixed bytes. */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }

  #reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): void {
    this.#reserve(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): void {
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new RangeError(`varint ${v} is out of range`);
    this.#reserve(10);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  /** Zig-zag then LEB128. */
  svarint(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.#reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  string(s: string): void {
    this.bytes(encoder.encode(s));
  }

  /** The bytes written so far (a view; copy it before writing more if you keep it). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
