/**
 * A tiny protocol-buffers writer: just what a pprof profile needs (varint and length-delimited
 * fields, packed repeated varints). Integers are non-negative: numbers up to 2^53 - 1, bigints
 * (timestamps in nanoseconds) up to 2^64 - 1.
 */

/** Wire types of the protobuf encoding. */
export const WIRE_VARINT = 0;
export const WIRE_LEN = 2;

/** Appends protobuf fields to a growing buffer. */
export class ProtobufWriter {
  #buf = new Uint8Array(1024);
  #len = 0;

  #ensure(extra_bytes: number): void {
    if (this.#len + extra_bytes <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + extra_bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Raw unsigned LEB128; arithmetic instead of bit operations, which would cut at 32 bits. */
  varint(value: number | bigint): this {
    if (typeof value === "bigint") return this.#bigVarint(value);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Cannot encode ${value} as a protobuf varint: not a natural number`);
    }
    this.#ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
    return this;
  }

  #bigVarint(value: bigint): this {
    if (value < 0n || value >= 1n << 64n) {
      throw new RangeError(`Cannot encode ${value} as a protobuf varint: out of range`);
    }
    this.#ensure(10);
    let v = value;
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
    return this;
  }

  /** A field key: field number and wire type. */
  tag(field: number, wire_type: number): this {
    return this.varint(field * 8 + wire_type);
  }

  /** A varint field; proto3 leaves zero values out. */
  uint(field: number, value: number | bigint): this {
    if (value === 0 || value === 0n) return this;
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** A length-delimited field holding `bytes` (written even when empty: repeated strings). */
  bytes(field: number, bytes: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(bytes.length);
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  /** An embedded message field. */
  message(field: number, build: (w: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated varint field (left out when empty). */
  packed(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtobufWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
