/**
 * A read cursor over little-endian bytes with the capture format's primitives. Reads never throw:
 * reading past `end` yields garbage and leaves `pos > end`, which callers check once per record
 * (cheaper than a bound check per byte).
 */
export class Cursor {
  pos: number;
  constructor(readonly buf: Uint8Array, pos: number, public end: number) {
    this.pos = pos;
  }

  /** True once a read went past `end`. */
  get overran(): boolean {
    return this.pos > this.end;
  }

  u8(): number {
    return this.buf[this.pos++] ?? 0;
  }

  /** Unsigned LEB128 as a Number (exact up to 2^53). */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    if (b < 0x80) return b;
    let value = b & 0x7f;
    let shift = 7;
    for (let n = 1; n < 10; n++) {
      b = buf[this.pos++];
      if (b === undefined) {
        this.pos = this.end + 1;
        return 0;
      }
      value += shift < 28 ? (b & 0x7f) << shift : (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
    this.pos = this.end + 1; // Over-long varint: mark as overrun so the record is rejected.
    return 0;
  }

  /** Zig-zag signed varint. */
  svarint(): number {
    const z = this.varint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    const start = this.pos;
    this.pos += n;
    if (this.pos > this.end) return new Uint8Array(0);
    return this.buf.subarray(start, start + n);
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  u32(): number {
    const p = this.pos;
    this.pos += 4;
    const b = this.buf;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    return hi * 2 ** 32 + lo;
  }
}

const decoder = new TextDecoder();

/** Wraps `addr + delta` into [0, 2^64) (exact while addresses stay below 2^53). */
export function wrapAddress(addr: number): number {
  if (addr < 0) return addr + 2 ** 64;
  if (addr >= 2 ** 64) return addr - 2 ** 64;
  return addr;
}
