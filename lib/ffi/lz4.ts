/**
 * LZ4 through the report library (lib/ffi.ts): frames to and from memory, capture files packed
 * into one frame, and framed files decoded straight from disk. Calls are synchronous and need the
 * library loaded first (`await loadReportLib()`) or passed as `lib`.
 */
import {
  cString,
  defaultLib,
  ERROR_CORRUPT,
  ERROR_NEEDS_DECODING,
  ERROR_NOT_LZ4,
  ERROR_OUTPUT_FULL,
  ERROR_SIZE_UNKNOWN,
  nativeError,
  type ReportLib,
  ReportLibError,
} from "../ffi.ts";

/** Options for {@link lz4CompressFrame}. */
export interface CompressOptions {
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * Encodes `input` as one LZ4 frame: content size set, independent 4 MiB blocks, blocks that do
 * not shrink stored uncompressed (the frames lib/lz4/frame.ts `encodeLz4Frame` writes, readable
 * by `lz4 -d`). Synchronous: about 0.3 s per 100 MB on this machine's kind.
 */
export function lz4CompressFrame(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
  const { symbols } = options.lib ?? defaultLib();
  const bound = Number(symbols.memrayd_lz4_frame_bound(BigInt(input.length)));
  const output = new Uint8Array(bound);
  const size = Number(
    symbols.memrayd_lz4_compress_frame(input, BigInt(input.length), output, BigInt(bound)),
  );
  if (size < 0) throw nativeError("compress to an LZ4 frame", size);
  // Keep only what was written when that frees much memory (captures compress 5-10x).
  return size < bound / 2 ? output.slice(0, size) : output.subarray(0, size);
}

/** Options for {@link lz4DecompressFrame}. */
export interface DecompressOptions {
  /** Refuse to produce more than this many bytes (default 64 GiB, a guard against garbage). */
  max_output_bytes?: number;
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * Decodes one or more concatenated LZ4 frames (skippable frames passed over, linked or
 * independent blocks, block checksums skipped, content checksums verified). Frames without a
 * content size are decoded into growing buffers.
 */
export function lz4DecompressFrame(input: Uint8Array, options: DecompressOptions = {}): Uint8Array {
  const { symbols } = options.lib ?? defaultLib();
  const max = options.max_output_bytes ?? 64 * 2 ** 30;
  const known = Number(symbols.memrayd_lz4_frame_content_size(input, BigInt(input.length)));
  if (known < 0 && known !== ERROR_SIZE_UNKNOWN) {
    throw nativeError("decompress an LZ4 frame", known);
  }
  if (known > max) {
    throw new ReportLibError(
      `Cannot decompress an LZ4 frame: it decodes to more than ${max} bytes`,
    );
  }
  let capacity = known >= 0 ? known : Math.min(max, Math.max(1 << 16, input.length * 4));
  // Without a content size the buffer doubles until the frames fit; 64 doublings pass any max.
  for (let attempt = 0; attempt < 64; attempt++) {
    const output = new Uint8Array(capacity);
    const size = Number(
      symbols.memrayd_lz4_decompress_frame(input, BigInt(input.length), output, BigInt(capacity)),
    );
    if (size >= 0) return output.subarray(0, size);
    if (size !== ERROR_OUTPUT_FULL || known >= 0) {
      throw nativeError("decompress an LZ4 frame", size);
    }
    if (capacity >= max) {
      throw new ReportLibError(
        `Cannot decompress an LZ4 frame: it decodes to more than ${max} bytes`,
      );
    }
    capacity = Math.min(max, capacity * 2);
  }
  throw new ReportLibError("Cannot decompress an LZ4 frame: output keeps growing");
}

/** The decoded size that the frames' headers state, or undefined when a header omits it. */
export function lz4FrameContentSize(
  input: Uint8Array,
  options: CompressOptions = {},
): number | undefined {
  const { symbols } = options.lib ?? defaultLib();
  const size = Number(symbols.memrayd_lz4_frame_content_size(input, BigInt(input.length)));
  if (size === ERROR_SIZE_UNKNOWN) return undefined;
  if (size < 0) throw nativeError("read an LZ4 frame header", size);
  return size;
}

/** Options for {@link compressCaptureFile}. */
export interface CompressCaptureFileOptions {
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * Packs the live (raw, uncompressed) capture at `inPath` and writes it as one LZ4 frame to
 * `outPath` (created or truncated): the bytes of `lz4CompressFrame(packCapture(raw))`
 * (lib/capture/pack.ts), in one native pass that reads only chunk headers. Returns the frame's
 * length, or `undefined` when the file needs the TypeScript path: it ends inside a chunk's
 * records (only decoding them finds the last complete one), or it is not a live capture the
 * chunk walk accepts (already packed, a bad header, a chunk claiming too many bytes), which
 * `packCapture` reports with its own message. `outPath` is not created in those cases.
 * Throws {@link ReportLibError} when a file cannot be opened, mapped or written. Synchronous.
 */
export function compressCaptureFile(
  inPath: string,
  outPath: string,
  options: CompressCaptureFileOptions = {},
): number | undefined {
  const { symbols } = options.lib ?? defaultLib();
  const size = Number(symbols.memrayd_compress_capture(cString(inPath), cString(outPath)));
  if (size === ERROR_NEEDS_DECODING || size === ERROR_CORRUPT) return undefined;
  if (size < 0) throw nativeError(`compress the capture ${inPath}`, size);
  return size;
}

/** Options for {@link lz4DecompressFile}. */
export interface DecompressFileOptions {
  /** Refuse to produce more than this many bytes (default 64 GiB, a guard against garbage). */
  max_output_bytes?: number;
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * Decodes the LZ4 frames of the file at `path`, which is mapped by the native code: the
 * compressed bytes never enter JavaScript's memory. Returns undefined when the file does not start
 * with an LZ4 frame (read it as it is). Throws {@link ReportLibError} when it cannot be opened,
 * its frames lack a content size, or they are damaged. Synchronous.
 */
export function lz4DecompressFile(
  path: string,
  options: DecompressFileOptions = {},
): Uint8Array | undefined {
  const { symbols } = options.lib ?? defaultLib();
  const max = options.max_output_bytes ?? 64 * 2 ** 30;
  const c_path = cString(path);
  const known = Number(symbols.memrayd_lz4_file_content_size(c_path));
  if (known === ERROR_NOT_LZ4) return undefined;
  if (known === ERROR_SIZE_UNKNOWN) return decompressUnsized(symbols, path, c_path, max);
  if (known < 0) throw nativeError(`decompress ${path}`, known);
  if (known > max) {
    throw new ReportLibError(`Cannot decompress ${path}: it decodes to more than ${max} bytes`);
  }
  const output = new Uint8Array(known);
  const size = Number(symbols.memrayd_lz4_decompress_file(c_path, output, BigInt(known)));
  if (size < 0) throw nativeError(`decompress ${path}`, size);
  return output.subarray(0, size);
}

/**
 * Decodes frames that do not state their size (memray's own captures): into an output guessed
 * from the file's size, grown fourfold while it is too small. The output's pages past the data
 * are never touched, so a generous guess costs address space, not memory.
 */
function decompressUnsized(
  symbols: ReportLib["symbols"],
  path: string,
  c_path: Uint8Array,
  max: number,
): Uint8Array {
  let file_bytes: number;
  try {
    file_bytes = Deno.statSync(path).size;
  } catch (e) {
    throw new ReportLibError(`Cannot decompress ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  let guess = Math.min(Math.max(8 * file_bytes, 1 << 20), max);
  // Each round quadruples the guess up to `max`: a handful of rounds at most.
  for (let round = 0; round < 32; round++) {
    const output = new Uint8Array(guess);
    const size = Number(symbols.memrayd_lz4_decompress_file(c_path, output, BigInt(guess)));
    if (size >= 0) return output.subarray(0, size);
    if (size !== ERROR_OUTPUT_FULL) throw nativeError(`decompress ${path}`, size);
    if (guess >= max) break;
    guess = Math.min(guess * 4, max);
  }
  throw new ReportLibError(`Cannot decompress ${path}: it decodes to more than ${max} bytes`);
}
