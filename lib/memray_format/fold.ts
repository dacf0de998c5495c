/**
 * `stats` and the peak snapshot of a memray 1.20 capture without keeping its events: the record
 * stream is decoded and folded natively (lib/ffi.ts `foldMemray`, native/report/memray_fold.zig)
 * into state bounded by the distinct stacks and the live allocations, and the compact arrays it
 * returns become the same {@link CaptureInfo} the full reader ({@link readMemrayCaptureBytes})
 * builds: same stack node and frame ids (both intern in stream order), and the records the fold
 * only listed (code objects, thread names, RSS samples, memory maps) decoded by the shared
 * decoders here.
 */
import type { CaptureInfo } from "../capture/event_scan.ts";
import { Cursor } from "../capture/cursor.ts";
import type { ModuleMapsRecord, RssSample, ThreadInfo } from "../capture/reader.ts";
import type { CodeObject, ModuleMap } from "../capture/records.ts";
import { foldTables, withCaptureInfo } from "../capture/native_fold.ts";
import { CaptureFold, foldMemray, ReportLib } from "../ffi.ts";
import {
  FILE_FORMAT_AGGREGATED,
  MemrayHeader,
  parseMemrayHeader,
  toCaptureHeader,
} from "./header.ts";
import { MemrayPythonStacks } from "./python_stacks.ts";
import { dataEnd } from "./reader.ts";
import { decodeCodeObject, decodeSegmentHeader, failIn, readCString } from "./shared_records.ts";

// The record types the native fold lists for this side (lib/memray_format/stream.ts).
const MEMORY_RECORD = 2;
const MEMORY_MAP_START = 6;
const SEGMENT_HEADER = 7;
const THREAD_RECORD = 10;
const CODE_OBJECT = 14;

/** A memray capture folded natively: its info (no events) and the fold's totals and arrays. */
export interface MemrayFoldResult {
  capture: CaptureInfo;
  fold: CaptureFold;
}

/** Options of {@link foldMemrayCapture}. */
export interface MemrayFoldOptions {
  lib: ReportLib;
  /** Group the peak's locations across threads. */
  merge_threads: boolean;
  /** Whether the file was LZ4-compressed (`bytes` are the decompressed bytes). */
  compressed: boolean;
  /** Called about every 100 ms with the share of the stream folded (0..1). */
  onProgress?: (fraction: number) => void;
}

/**
 * Folds the memray capture `bytes` (decompressed) natively. Returns undefined when the full reader
 * must read it: an aggregated capture (no events), or one the native decoder refuses (which the
 * reader then reports in its own words). Throws a `CaptureError` for a bad header.
 */
export async function foldMemrayCapture(
  bytes: Uint8Array,
  path: string,
  options: MemrayFoldOptions,
): Promise<MemrayFoldResult | undefined> {
  const h = parseMemrayHeader(bytes, path);
  if (h.file_format === FILE_FORMAT_AGGREGATED) return undefined;
  // memray trims the zero padding only of uncompressed files; a compressed one is complete.
  const end = options.compressed ? bytes.length : dataEnd(bytes);
  const fold = await foldMemray(bytes, {
    start: h.size_bytes,
    end,
    native_traces: h.native_traces,
  }, { lib: options.lib, merge_threads: options.merge_threads, onProgress: options.onProgress });
  if (fold === undefined) return undefined;
  // A listed record the shared decoders refuse: the full reader reports it, in its order.
  return withCaptureInfo(fold, () => captureInfo(bytes, end, h, path, options.compressed, fold));
}

function captureInfo(
  bytes: Uint8Array,
  end: number,
  h: MemrayHeader,
  path: string,
  compressed: boolean,
  fold: CaptureFold,
): CaptureInfo {
  const fail = failIn(path);
  const threads = new Map<number, ThreadInfo>();
  for (const thread_id of fold.threads) threads.set(thread_id, { thread_id });
  const codes = new Map<number, CodeObject>();
  const code_sink = {
    addCode(code: CodeObject): void {
      if (!codes.has(code.code_id)) codes.set(code.code_id, code);
    },
  };
  const rss: RssSample[] = [];
  const module_maps: ModuleMapsRecord[] = [];
  let modules: ModuleMap[] | undefined;
  let last_firstlineno = 0;
  const cold = fold.cold_records;
  for (let i = 0; i < cold.length; i += 3) {
    const at = cold[i];
    const thread_id = cold[i + 1];
    const seq = cold[i + 2];
    // The fold measured the record within the stream: no body here runs past `end`.
    const c = new Cursor(bytes, at + 1, end);
    const type = bytes[at];
    if (type === CODE_OBJECT) {
      last_firstlineno = decodeCodeObject(c, last_firstlineno, code_sink);
    } else if (type === THREAD_RECORD) {
      const name = readCString(c);
      const info = threads.get(thread_id);
      if (info === undefined) fail(`THREAD_RECORD of unknown thread ${thread_id}`, at);
      info!.name = name;
    } else if (type === MEMORY_RECORD) {
      const rss_bytes = c.varint();
      const time_offset_ms = c.varint();
      rss.push({ seq, time_offset_ms, rss_bytes });
    } else if (type === MEMORY_MAP_START) {
      modules = [];
      module_maps.push({ seq, generation: module_maps.length + 1, modules });
    } else if (type === SEGMENT_HEADER) {
      decodeSegmentHeader(c, modules, at, fail);
    } else {
      fail(`unexpected record type 0x${type.toString(16)} from the native fold`, at);
    }
    if (c.overran) fail("record cut short after the native fold measured it", at);
  }
  const tables = foldTables(fold, (what) => fail(what, 0));
  // Events, RSS samples and memory maps share memray's one sequence.
  const seq_end = fold.event_count + rss.length + module_maps.length;
  const python = new MemrayPythonStacks({
    tree: tables.py_tree,
    frames: tables.py_frames,
    codes,
    python_hexversion: h.python_version,
    skipped_frames_on_main_tid: h.skipped_frames_on_main_tid,
  });
  return {
    path,
    header: toCaptureHeader(h, !fold.cut_off, seq_end),
    compressed,
    cut_off: fold.cut_off,
    codes,
    threads,
    rss,
    module_maps,
    python,
    native: { tree: tables.native_tree, frames: tables.native_frames },
    locations: [],
    heap_samples: [],
    main_thread_id: h.main_tid,
  };
}
