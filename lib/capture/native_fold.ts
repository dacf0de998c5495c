/**
 * Reading a capture through the report library's native fold (lib/ffi.ts `foldCapture`): the
 * events are decoded and folded in Zig in one pass; here the compact arrays it returns become the
 * same {@link CaptureInfo} the TypeScript scan ({@link import("./event_scan.ts").scanEvents})
 * builds (same stack node and frame ids, since both intern in the same order), and the records
 * the fold only measured (code objects, thread names and infos, RSS samples, module maps) are
 * decoded by the shared body decoders.
 */
import { CaptureFold, foldCapture, ReportLib } from "../ffi.ts";
import { Cursor } from "./cursor.ts";
import { CaptureError } from "./errors.ts";
import type { CaptureInfo } from "./event_scan.ts";
import { CaptureHeader, mainThreadIdOf, SAMPLER_THREAD_ID } from "./header.ts";
import { pythonStacksOf } from "./python_stacks.ts";
import type { ModuleMapsRecord, RssSample, ThreadInfo } from "./reader.ts";
import * as B from "./record_bodies.ts";
import * as R from "./records.ts";
import { NativeFrameTable, PythonFrameTable, StackTree } from "./stack_tree.ts";

/** A capture folded natively: its info (no events) and the fold's totals and arrays. */
export interface NativeFoldResult {
  capture: CaptureInfo;
  fold: CaptureFold;
}

/** Options of {@link foldNative}. */
export interface NativeFoldOptions {
  lib: ReportLib;
  /** Group the peak's locations across threads. */
  merge_threads: boolean;
  compressed: boolean;
  /** Called about every 100 ms with the share of the capture folded (0..1). */
  onProgress?: (fraction: number) => void;
}

/**
 * Folds an uncompressed, non-aggregated capture of ours natively. Returns undefined when the
 * capture needs the TypeScript scan: anything it would reject (which the caller then reports
 * through that scan, with its messages).
 */
export async function foldNative(
  bytes: Uint8Array,
  header: CaptureHeader,
  path: string,
  options: NativeFoldOptions,
): Promise<NativeFoldResult | undefined> {
  if (header.aggregated) throw new CaptureError(path, "aggregated capture holds no events");
  const fold = await foldCapture(bytes, {
    header_size_bytes: header.header_size_bytes,
    chunk_size_bytes: header.chunk_size_bytes,
    packed: header.packed,
  }, { lib: options.lib, merge_threads: options.merge_threads, onProgress: options.onProgress });
  if (fold === undefined) return undefined;
  return withCaptureInfo(fold, () => captureInfo(bytes, header, path, options.compressed, fold));
}

/**
 * A fold with the capture info `build` makes of it; undefined when `build` refuses a record (a
 * code id defined twice...) with a {@link CaptureError}: the caller's TypeScript reader then
 * reports it, in its order of errors. Shared with lib/memray_format/fold.ts.
 */
export function withCaptureInfo(
  fold: CaptureFold,
  build: () => CaptureInfo,
): NativeFoldResult | undefined {
  try {
    return { capture: build(), fold };
  } catch (e) {
    if (e instanceof CaptureError) return undefined;
    throw e;
  }
}

/** The frame tables and stack trees a fold's arrays describe, ids as the fold numbered them. */
export interface FoldTables {
  py_frames: PythonFrameTable;
  native_frames: NativeFrameTable;
  py_tree: StackTree;
  native_tree: StackTree;
}

/**
 * Replays the fold's frames and (parent, frame) pairs into tables and trees; `fail` is called
 * (and must throw) when one comes out with another id than the fold gave it (a repeat). Shared
 * with lib/memray_format/fold.ts.
 */
export function foldTables(fold: CaptureFold, fail: (what: string) => never): FoldTables {
  const py_frames = new PythonFrameTable();
  const f = fold.py_frames;
  for (let i = 0; i < f.length; i += 3) {
    if (py_frames.intern(f[i], f[i + 1], f[i + 2]) !== i / 3) {
      fail(`native fold returned Python frame ${i / 3} twice`);
    }
  }
  const native_frames = new NativeFrameTable();
  fold.native_ips.forEach((ip, i) => {
    // Instruction pointers past 2^53 may collide as Numbers; the TypeScript reader decides then.
    if (native_frames.intern(ip) !== i) fail(`native fold returned native frame ${i} twice`);
  });
  return {
    py_frames,
    native_frames,
    py_tree: treeOf(fold.py_tree, fail),
    native_tree: treeOf(fold.native_tree, fail),
  };
}

function captureInfo(
  bytes: Uint8Array,
  header: CaptureHeader,
  path: string,
  compressed: boolean,
  fold: CaptureFold,
): CaptureInfo {
  const fail = (what: string): never => {
    throw new CaptureError(path, what);
  };
  const threads = new Map<number, ThreadInfo>();
  const info = (thread_id: number): ThreadInfo => {
    let t = threads.get(thread_id);
    if (t === undefined) {
      t = { thread_id };
      threads.set(thread_id, t);
    }
    return t;
  };
  for (const id of fold.threads) if (id !== SAMPLER_THREAD_ID) info(id);
  const codes = new Map<number, R.CodeObject>();
  const rss: RssSample[] = [];
  const module_maps: ModuleMapsRecord[] = [];
  const cold = fold.cold_records;
  for (let i = 0; i < cold.length; i += 3) {
    const start = cold[i];
    const thread_id = cold[i + 1];
    const seq = cold[i + 2];
    const where = () => `record at offset ${start} (thread ${thread_id})`;
    // The fold measured the record within its chunk: no body here runs past it.
    const c = new Cursor(bytes, start + 1, bytes.length);
    const type = bytes[start];
    if (type === R.REC_CODE) {
      const code = B.readCode(c);
      if (code === B.CUT_OFF) fail(`${where()}: cut off`);
      const object = code as R.CodeObject;
      if (object.code_id === 0) fail(`${where()}: code id 0`);
      if (codes.has(object.code_id)) fail(`code id ${object.code_id} is defined twice`);
      codes.set(object.code_id, object);
    } else if (type === R.REC_THREAD_NAME) {
      const name = B.readThreadName(c);
      if (name === B.CUT_OFF) fail(`${where()}: cut off`);
      info(thread_id).name = name as string;
    } else if (type === R.REC_THREAD_INFO) {
      const body = B.readThreadInfo(c);
      if (body === B.CUT_OFF) fail(`${where()}: cut off`);
      const t = info(thread_id);
      t.os_tid = (body as B.ThreadInfoBody).os_tid;
      t.origin = (body as B.ThreadInfoBody).origin;
    } else if (type === R.REC_RSS) {
      const body = B.readRss(c);
      if (body === B.CUT_OFF) fail(`${where()}: cut off`);
      const { time_offset_ms, rss_bytes } = body as B.RssBody;
      rss.push({ seq, time_offset_ms, rss_bytes });
    } else if (type === R.REC_MODULES) {
      const body = B.readModules(c, (what) => fail(`${where()}: ${what}`));
      if (body === B.CUT_OFF) fail(`${where()}: cut off`);
      const { generation, modules } = body as B.ModulesBody;
      module_maps.push({ seq, generation, modules });
    } else {
      fail(`${where()}: unexpected record type 0x${type.toString(16)} from the native fold`);
    }
  }
  const tables = foldTables(fold, fail);
  const python = pythonStacksOf(header, {
    tree: tables.py_tree,
    frames: tables.py_frames,
    codes,
  });
  return {
    path,
    header,
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
    main_thread_id: mainThreadIdOf(header),
  };
}

/** Replays (parent, frame) pairs into a {@link StackTree}: node k + 1 is the k-th pair. */
function treeOf(pairs: Int32Array, fail: (what: string) => never): StackTree {
  const tree = new StackTree();
  for (let i = 0; i < pairs.length; i += 2) {
    const node = tree.child(pairs[i], pairs[i + 1]);
    if (node !== i / 2 + 1) fail(`native fold returned stack node ${i / 2 + 1} twice`);
  }
  return tree;
}
