/**
 * Reads a capture written by memray 1.20 (header version 13, ALL_ALLOCATIONS or
 * AGGREGATED_ALLOCATIONS) into our {@link Capture}, so every report accepts it.
 */
import { CaptureError } from "../capture/errors.ts";
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { Capture } from "../capture/reader.ts";
import { decodeAggregated } from "./aggregated.ts";
import {
  FILE_FORMAT_AGGREGATED,
  type MemrayHeader,
  parseMemrayHeader,
  toCaptureHeader,
} from "./header.ts";
import { MemrayParts } from "./parts.ts";
import { MemrayPythonStacks } from "./python_stacks.ts";
import { decodeStream } from "./stream.ts";

export { isMemrayCapture } from "./header.ts";

/**
 * Where the written data of an uncompressed file ends: memray's mmap sink pads the file with
 * zeros, so (as memray's `FileSource`) the last non-zero byte ends it.
 */
export function dataEnd(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * Decodes memray capture `bytes` (already decompressed; `compressed` says whether they were).
 * Throws {@link CaptureError}.
 */
export function readMemrayCaptureBytes(
  bytes: Uint8Array,
  path: string,
  compressed: boolean,
): Capture {
  const h = parseMemrayHeader(bytes, path);
  // memray trims the zero padding only of uncompressed files; a compressed one is complete.
  const end = compressed ? bytes.length : dataEnd(bytes);
  const parts = new MemrayParts(h.n_allocations);
  if (h.file_format === FILE_FORMAT_AGGREGATED) {
    decodeAggregated(bytes, h.size_bytes, end, h.native_traces, h.start_time_ms, parts, path);
  } else {
    decodeStream(bytes, h.size_bytes, end, h.native_traces, parts, path);
  }
  const events = parts.events.finishInSeqOrder();
  if (events.count !== parts.events.count) {
    throw new CaptureError(path, "memray events lost in ordering"); // Cannot happen: a stream is ordered.
  }
  return { ...memrayCaptureInfo(h, parts, path, compressed), events };
}

/**
 * The capture decoded into `parts` (with header `h`), without its events: what the reader and
 * the streaming scan (lib/memray_format/scan.ts) both return.
 */
export function memrayCaptureInfo(
  h: MemrayHeader,
  parts: MemrayParts,
  path: string,
  compressed: boolean,
): CaptureInfo {
  return {
    path,
    header: toCaptureHeader(h, !parts.cut_off, parts.seq),
    compressed,
    cut_off: parts.cut_off,
    codes: parts.codes,
    threads: parts.threads,
    rss: parts.rss,
    module_maps: parts.module_maps,
    python: new MemrayPythonStacks({
      tree: parts.py_tree,
      frames: parts.py_frames,
      codes: parts.codes,
      python_hexversion: h.python_version,
      skipped_frames_on_main_tid: h.skipped_frames_on_main_tid,
    }),
    native: { tree: parts.native_tree, frames: parts.native_frames },
    locations: parts.locations,
    heap_samples: parts.heap_samples,
    main_thread_id: h.main_tid,
  };
}
