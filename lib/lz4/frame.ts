/**
 * LZ4 frame format (the one the reference `lz4` tool reads and writes) on top of lz4-wasm, which
 * only knows the block format (4-byte size prefix + raw block).
 *
 * Decoding supports: one or more concatenated frames, skippable frames, independent or linked
 * blocks, with or without content size, uncompressed blocks, block and content checksums (skipped,
 * not verified). Unsupported: dictionary ids (a frame that needs an external dictionary) and
 * legacy-format frames (magic `02 21 4C 18`); both give a one-line error.
 */
import * as lz4 from "lz4-wasm/lz4_wasm.js";
import { decodeBlockInto } from "./block.ts";
import { xxhash32 } from "./xxhash32.ts";

/** The 4 magic bytes that start an LZ4 frame. */
export const LZ4_FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
const BLOCK_SIZE_CODES: Record<number, number> = {
  4: 64 << 10,
  5: 256 << 10,
  6: 1 << 20,
  7: 4 << 20,
};

/** Thrown for any malformed or unsupported LZ4 input. The message is one line. */
export class Lz4Error extends Error {
  override name = "Lz4Error";
}

function read32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** True when `bytes` starts with the LZ4 frame magic `04 22 4D 18`. */
export function isLz4Frame(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && read32(bytes, 0) === LZ4_FRAME_MAGIC;
}

/** Options for {@link decodeLz4Frame}. */
export interface DecodeOptions {
  /** Refuse to produce more than this many bytes (default 64 GiB, a guard against garbage). */
  max_output_bytes?: number;
}

class Output {
  buf: Uint8Array;
  len = 0;
  constructor(initial: number, readonly max: number) {
    this.buf = new Uint8Array(Math.max(initial, 1024));
  }
  reserve(n: number): void {
    const need = this.len + n;
    if (need > this.max) throw new Lz4Error(`LZ4 data decodes to more than ${this.max} bytes`);
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(Math.min(cap, Math.max(need, this.max)));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** Decodes a whole LZ4 frame stream (one or more frames) into one buffer. */
export function decodeLz4Frame(input: Uint8Array, options: DecodeOptions = {}): Uint8Array {
  const max = options.max_output_bytes ?? 64 * 2 ** 30;
  let out: Output | null = null;
  let pos = 0;
  let frames = 0;
  while (pos < input.length) {
    if (input.length - pos < 4) throw new Lz4Error("LZ4 stream ends inside a frame magic");
    const magic = read32(input, pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // Skippable frame: magic, u32 size, payload.
      if (input.length - pos < 8) throw new Lz4Error("LZ4 skippable frame is truncated");
      pos += 8 + read32(input, pos + 4);
      continue;
    }
    if (magic === LEGACY_MAGIC) throw new Lz4Error("legacy LZ4 frames are not supported");
    if (magic !== LZ4_FRAME_MAGIC) {
      if (frames > 0) break; // Trailing garbage after a complete frame is ignored, as lz4 does.
      throw new Lz4Error("not an LZ4 frame (bad magic)");
    }
    frames++;
    pos = decodeOneFrame(input, pos + 4, (n) => {
      if (out === null) out = new Output(n, max);
      return out;
    });
  }
  if (frames === 0) throw new Lz4Error("LZ4 stream holds no frame");
  const result = out as Output | null;
  return result === null ? new Uint8Array(0) : result.buf.subarray(0, result.len);
}

function decodeOneFrame(input: Uint8Array, start: number, output: (n: number) => Output): number {
  let pos = start;
  if (input.length - pos < 3) throw new Lz4Error("LZ4 frame header is truncated");
  const flg = input[pos];
  const bd = input[pos + 1];
  if ((flg >>> 6) !== 1) throw new Lz4Error(`LZ4 frame version ${flg >>> 6} is not supported`);
  const independent = (flg & 0x20) !== 0;
  const block_checksum = (flg & 0x10) !== 0;
  const has_content_size = (flg & 0x08) !== 0;
  const content_checksum = (flg & 0x04) !== 0;
  const has_dict_id = (flg & 0x01) !== 0;
  const block_max = BLOCK_SIZE_CODES[(bd >>> 4) & 7];
  if (block_max === undefined) throw new Lz4Error("LZ4 frame has an invalid block size code");
  const descriptor_len = 2 + (has_content_size ? 8 : 0) + (has_dict_id ? 4 : 0);
  if (input.length - pos < descriptor_len + 1) throw new Lz4Error("LZ4 frame header is truncated");
  let content_size = -1;
  if (has_content_size) {
    const lo = read32(input, pos + 2);
    const hi = read32(input, pos + 6);
    content_size = hi * 2 ** 32 + lo;
  }
  if (has_dict_id) throw new Lz4Error("LZ4 frames with a dictionary id are not supported");
  const hc = (xxhash32(input.subarray(pos, pos + descriptor_len)) >>> 8) & 0xff;
  if (hc !== input[pos + descriptor_len]) {
    throw new Lz4Error("LZ4 frame header checksum does not match");
  }
  pos += descriptor_len + 1;
  const out = output(content_size >= 0 ? content_size : block_max);
  const frame_start = out.len;
  // Linked blocks and unknown sizes go through the TypeScript decoder, which writes into the
  // shared output so matches may reach into earlier blocks.
  const use_wasm = independent && content_size >= 0;
  for (;;) {
    if (input.length - pos < 4) throw new Lz4Error("LZ4 frame is truncated (no end mark)");
    const word = read32(input, pos);
    pos += 4;
    if (word === 0) break;
    const raw = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > block_max) throw new Lz4Error("LZ4 block is larger than the frame's block size");
    if (input.length - pos < size + (block_checksum ? 4 : 0)) {
      throw new Lz4Error("LZ4 frame is truncated inside a block");
    }
    const block = input.subarray(pos, pos + size);
    pos += size + (block_checksum ? 4 : 0);
    if (raw) {
      out.reserve(size);
      out.buf.set(block, out.len);
      out.len += size;
      continue;
    }
    const remaining = content_size >= 0 ? content_size - (out.len - frame_start) : block_max;
    const expect = Math.min(block_max, remaining);
    out.reserve(Math.max(expect, 0));
    if (use_wasm && expect > 0 && decodeWasm(block, expect, out)) continue;
    const bound = content_size >= 0 ? Math.max(expect, 0) : block_max;
    out.reserve(bound);
    try {
      out.len = decodeBlockInto(block, out.buf.subarray(0, out.len + bound), out.len);
    } catch (e) {
      throw new Lz4Error(`LZ4 block is corrupt: ${(e as Error).message}`);
    }
  }
  if (content_checksum) {
    if (input.length - pos < 4) throw new Lz4Error("LZ4 frame is truncated (content checksum)");
    pos += 4;
  }
  if (content_size >= 0 && out.len - frame_start !== content_size) {
    throw new Lz4Error(
      `LZ4 frame decoded to ${out.len - frame_start} bytes, header says ${content_size}`,
    );
  }
  return pos;
}

/** Decodes one independent block with lz4-wasm when its size is exactly `expect`. */
function decodeWasm(block: Uint8Array, expect: number, out: Output): boolean {
  const prefixed = new Uint8Array(block.length + 4);
  new DataView(prefixed.buffer).setUint32(0, expect, true);
  prefixed.set(block, 4);
  let decoded: Uint8Array;
  try {
    decoded = lz4.decompress(prefixed);
  } catch {
    return false; // Not a full block (the writer flushed early): the caller decodes it in TS.
  }
  out.buf.set(decoded, out.len);
  out.len += decoded.length;
  return true;
}

/** Options for {@link encodeLz4Frame}. */
export interface EncodeOptions {
  /** Block size: 64 KiB, 256 KiB, 1 MiB or 4 MiB (default 4 MiB). */
  block_size_bytes?: number;
}

/**
 * Encodes `data` as one LZ4 frame with the content size set and independent blocks, which the
 * reference `lz4` tool decodes (`lz4 -d`).
 */
export function encodeLz4Frame(data: Uint8Array, options: EncodeOptions = {}): Uint8Array {
  const block_size = options.block_size_bytes ?? 4 << 20;
  const code = Object.entries(BLOCK_SIZE_CODES).find(([, v]) => v === block_size)?.[0];
  if (code === undefined) throw new Lz4Error(`LZ4 block size ${block_size} is not supported`);
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(15);
  const view = new DataView(header.buffer);
  view.setUint32(0, LZ4_FRAME_MAGIC, true);
  header[4] = 0x40 | 0x20 | 0x08; // version 01, independent blocks, content size.
  header[5] = Number(code) << 4;
  view.setUint32(6, data.length % 2 ** 32, true);
  view.setUint32(10, Math.floor(data.length / 2 ** 32), true);
  header[14] = (xxhash32(header.subarray(4, 14)) >>> 8) & 0xff;
  parts.push(header);
  for (let off = 0; off < data.length; off += block_size) {
    const chunk = data.subarray(off, Math.min(off + block_size, data.length));
    const compressed = lz4.compress(chunk); // 4-byte size prefix, then the raw block.
    const body_len = compressed.length - 4;
    const size_word = new Uint8Array(4);
    if (body_len < chunk.length) {
      new DataView(size_word.buffer).setUint32(0, body_len, true);
      parts.push(size_word, compressed.subarray(4));
    } else {
      // Incompressible: store raw, flagged by the high bit, so a block never grows.
      new DataView(size_word.buffer).setUint32(0, (chunk.length | 0x80000000) >>> 0, true);
      parts.push(size_word, chunk);
    }
  }
  parts.push(new Uint8Array(4)); // End mark.
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
