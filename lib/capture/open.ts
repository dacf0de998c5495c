/** Reads a capture file's bytes, decompressed, and says which format they hold. */
import { CaptureError } from "./errors.ts";
import { CaptureHeader, parseHeader } from "./header.ts";
import { decompressIfNeeded, ReadOptions } from "./reader.ts";
import { isMemrayCapture } from "../memray_format/reader.ts";
import { lz4DecompressFile, ReportLib } from "../ffi.ts";

/** A capture's bytes, ready for {@link import("./event_scan.ts").scanEvents} or the reader. */
export interface OpenedCapture {
  path: string;
  /** Uncompressed bytes. */
  bytes: Uint8Array;
  compressed: boolean;
  /** Our header; undefined for a memray 1.20 capture (read those with `readCaptureBytes`). */
  header?: CaptureHeader;
}

/** Options of {@link openCapture}. */
export interface OpenOptions extends ReadOptions {
  /**
   * Decompress an LZ4-framed file with this report library, straight from the mapped file (the
   * compressed bytes never enter JavaScript's memory), instead of reading it and decoding with
   * lz4-wasm. A file it cannot decode goes the lz4-wasm way, which says why in the reader's words.
   */
  lib?: ReportLib;
}

/** Reads and decompresses `path`. Throws {@link CaptureError} with a one-line message. */
export async function openCapture(path: string, options: OpenOptions = {}): Promise<OpenedCapture> {
  if (options.lib !== undefined) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = lz4DecompressFile(path, { lib: options.lib, max_output_bytes: options.max_bytes });
    } catch {
      bytes = undefined; // Read below: the reader reports what is wrong.
    }
    if (bytes !== undefined) return opened(path, bytes, true);
  }
  let raw: Uint8Array;
  try {
    raw = await Deno.readFile(path);
  } catch (e) {
    throw new CaptureError(path, (e as Error).message.split("\n")[0]);
  }
  const { bytes, compressed } = decompressIfNeeded(raw, path, options);
  return opened(path, bytes, compressed);
}

function opened(path: string, bytes: Uint8Array, compressed: boolean): OpenedCapture {
  if (isMemrayCapture(bytes)) return { path, bytes, compressed };
  return { path, bytes, compressed, header: parseHeader(bytes, path) };
}
