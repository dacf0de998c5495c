/** Reads a capture file's bytes, decompressed, and says which format they hold. */
import { CaptureError } from "./errors.ts";
import { CaptureHeader, parseHeader } from "./header.ts";
import { decompressIfNeeded, ReadOptions } from "./reader.ts";
import { isMemrayCapture } from "../memray_format/reader.ts";

/** A capture's bytes, ready for {@link import("./event_scan.ts").scanEvents} or the reader. */
export interface OpenedCapture {
  path: string;
  /** Uncompressed bytes. */
  bytes: Uint8Array;
  compressed: boolean;
  /** Our header; undefined for a memray 1.20 capture (read those with `readCaptureBytes`). */
  header?: CaptureHeader;
}

/** Reads and decompresses `path`. Throws {@link CaptureError} with a one-line message. */
export async function openCapture(path: string, options: ReadOptions = {}): Promise<OpenedCapture> {
  let raw: Uint8Array;
  try {
    raw = await Deno.readFile(path);
  } catch (e) {
    throw new CaptureError(path, (e as Error).message.split("\n")[0]);
  }
  const { bytes, compressed } = decompressIfNeeded(raw, path, options);
  if (isMemrayCapture(bytes)) return { path, bytes, compressed };
  return { path, bytes, compressed, header: parseHeader(bytes, path) };
}
