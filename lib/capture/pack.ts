/**
 * Compaction of a finished capture: live layout -> packed layout (empty chunks and the unused
 * tail of every chunk dropped), then one LZ4 frame, written next to the file and renamed over it.
 */
import { encodeLz4Frame, isLz4Frame } from "../lz4/frame.ts";
import { compressCaptureFile, loadReportLib, lz4CompressFrame } from "../ffi.ts";
import { NOOP_VISITOR, walkChunks } from "./chunks.ts";
import { CaptureError } from "./errors.ts";
import {
  CaptureHeader,
  CHUNK_HEADER_BYTES,
  FIXED_HEADER_BYTES,
  FLAG_PACKED,
  parseHeader,
} from "./header.ts";

/** Where a chunk stands and how many bytes of complete records it holds. */
interface ChunkSpan {
  offset: number;
  complete_bytes: number;
}

/**
 * Returns the packed layout of a raw (uncompressed) capture. Chunks cut off by a crash keep their
 * complete records only. A capture that is already packed is returned unchanged.
 */
export function packCapture(raw: Uint8Array, path = "<memory>"): Uint8Array {
  const header = parseHeader(raw, path);
  if (header.packed) return raw;
  const chunks = chunkSpans(raw, header, path);
  let total = header.header_size_bytes;
  for (const c of chunks) total += c.complete_bytes > 0 ? CHUNK_HEADER_BYTES + c.complete_bytes : 0;
  const out = new Uint8Array(total);
  out.set(raw.subarray(0, header.header_size_bytes));
  const view = new DataView(out.buffer);
  view.setUint32(16, header.flags | FLAG_PACKED, true);
  view.setUint32(20, 0, true);
  let at = header.header_size_bytes;
  for (const c of chunks) {
    if (c.complete_bytes === 0) continue;
    out.set(raw.subarray(c.offset, c.offset + CHUNK_HEADER_BYTES + c.complete_bytes), at);
    view.setUint32(at, c.complete_bytes, true);
    at += CHUNK_HEADER_BYTES + c.complete_bytes;
  }
  return out;
}

/**
 * The chunks of a live capture. The engine publishes `used_bytes` only after a record is
 * complete, so a chunk's header alone says what it holds, even after SIGKILL: records are decoded
 * only when the file itself ends inside a chunk's records (a truncated copy), to find the last
 * complete one. Readers validate the records themselves.
 */
function chunkSpans(raw: Uint8Array, header: CaptureHeader, path: string): ChunkSpan[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const spans: ChunkSpan[] = [];
  const payload_max = header.chunk_size_bytes - CHUNK_HEADER_BYTES;
  for (
    let offset = header.header_size_bytes;
    offset + CHUNK_HEADER_BYTES <= raw.length;
    offset += header.chunk_size_bytes
  ) {
    const used = view.getUint32(offset, true);
    if (used > payload_max) {
      throw new CaptureError(path, `chunk at offset ${offset} claims ${used} used bytes`);
    }
    if (offset + CHUNK_HEADER_BYTES + used > raw.length) return decodedSpans(raw, header, path);
    if (used > 0) spans.push({ offset, complete_bytes: used });
  }
  return spans;
}

/** The slow path of {@link chunkSpans}: decode every record to find where complete ones end. */
function decodedSpans(raw: Uint8Array, header: CaptureHeader, path: string): ChunkSpan[] {
  const spans: ChunkSpan[] = [];
  walkChunks(raw, header, path, { ...NOOP_VISITOR, chunk: (c) => spans.push(c) });
  return spans;
}

/**
 * Packs and LZ4-compresses the capture at `path` in place: writes `<path>.lz4.tmp`, then renames
 * it over `path`. If anything fails the raw file is kept untouched and a {@link CaptureError} is
 * thrown. An already-compressed file is left as is.
 *
 * A live capture with a valid header goes through the report library in one native pass
 * (`compressCaptureFile`); without the library, or when the file needs its records decoded (it
 * ends inside a chunk), or is anything else, it is read whole and packed here.
 */
export async function compressCapture(path: string): Promise<void> {
  const tmp = `${path}.lz4.tmp`;
  try {
    const head = await readHead(path);
    if (isLz4Frame(head)) return;
    // The native chunk walk trusts a header parseHeader accepted; any other file takes the
    // path below, which reports it with the reader's messages.
    const live = liveHeader(head, path);
    const lib = await loadReportLib().catch(() => undefined);
    if (live && lib && compressCaptureFile(path, tmp, { lib }) !== undefined) {
      await Deno.rename(tmp, path);
      return;
    }
    const raw = await Deno.readFile(path);
    if (isLz4Frame(raw)) return;
    const packed = packCapture(raw, path);
    // The native compressor is faster; lz4-wasm writes the same frame format where it is missing.
    const frame = lib ? lz4CompressFrame(packed, { lib }) : encodeLz4Frame(packed);
    await Deno.writeFile(tmp, frame);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    if (e instanceof CaptureError) throw e;
    throw new CaptureError(path, `compressing failed: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Headers larger than this are left to the whole-file path (real ones are 4-64 KiB). */
const HEAD_READ_MAX_BYTES = 1 << 20;

/** The first bytes of the file: its whole header when it looks like a capture header. */
async function readHead(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const fixed = await readUpTo(file, FIXED_HEADER_BYTES);
  if (fixed.length < FIXED_HEADER_BYTES) return fixed;
  const header_size = new DataView(fixed.buffer, fixed.byteOffset).getUint32(12, true);
  if (header_size <= FIXED_HEADER_BYTES || header_size > HEAD_READ_MAX_BYTES) return fixed;
  const rest = await readUpTo(file, header_size - FIXED_HEADER_BYTES);
  const head = new Uint8Array(fixed.length + rest.length);
  head.set(fixed);
  head.set(rest, fixed.length);
  return head;
}

/** Reads until `size_bytes` are read or the file ends. */
async function readUpTo(file: Deno.FsFile, size_bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(size_bytes);
  let at = 0;
  // Every read but the last returns at least one byte: at most size_bytes + 1 reads.
  while (at < size_bytes) {
    const n = await file.read(out.subarray(at));
    if (n === null || n === 0) break;
    at += n;
  }
  return out.subarray(0, at);
}

/** Whether `head` holds a valid header of a live (unpacked) capture. */
function liveHeader(head: Uint8Array, path: string): boolean {
  try {
    return !parseHeader(head, path).packed;
  } catch {
    return false;
  }
}
