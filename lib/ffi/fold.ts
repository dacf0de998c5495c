/**
 * The native folds of a capture's events through the report library (lib/ffi.ts): ours
 * ({@link foldCapture}) and memray 1.20's ({@link foldMemray}), run on a worker thread with
 * progress, and the reading of their result (native/report/fold_result.zig) into a
 * {@link CaptureFold}.
 */
import {
  defaultLib,
  ERROR_CORRUPT,
  ERROR_OUT_OF_MEMORY,
  nativeError,
  type ReportLib,
} from "../ffi.ts";

/** Where a capture's chunks are (from its parsed header), for {@link foldCapture}. */
export interface FoldLayout {
  header_size_bytes: number;
  /** Live layout: every chunk's span (0 when packed). */
  chunk_size_bytes: number;
  packed: boolean;
}

/** Options for {@link foldCapture}. */
export interface FoldOptions {
  /** Group the peak's locations across threads (thread 0 in the key). Default false. */
  merge_threads?: boolean;
  /** Called about every 100 ms while folding with the share of chunk bytes decoded (0..1). */
  onProgress?: (fraction: number) => void;
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * What the native fold of a capture's events returns (native/report/fold_result.zig): totals,
 * and compact arrays from which lib/capture/native_fold.ts builds what the TypeScript scan would.
 */
export interface CaptureFold {
  event_count: number;
  alloc_count: number;
  alloc_bytes: number;
  peak_bytes: number;
  /** Index of the peak's event among all events in seq order; -1 without events. */
  peak_index: number;
  end_heap_bytes: number;
  /** A chunk was cut off by the end of the file (a crash). */
  cut_off: boolean;
  /** Thread ids in order of each thread's first chunk (the sampler's included). */
  threads: Uint32Array;
  /** Triples: offset, thread id, seq of the CODE, THREAD_NAME, THREAD_INFO, RSS, MODULES records. */
  cold_records: Float64Array;
  /** Triples per Python frame id: code id, is_entry, instruction offset. */
  py_frames: Float64Array;
  /** Pairs per Python stack node from 1 on: parent node, frame id. */
  py_tree: Int32Array;
  /** Instruction pointer per native frame id. */
  native_ips: Float64Array;
  /** Pairs per native stack node from 1 on: parent node, frame id. */
  native_tree: Int32Array;
  /**
   * Quadruples in order of first allocation: Python stack node, native stack node (0: none),
   * bytes, count.
   */
  stats_nodes: Float64Array;
  /** Pairs in order of first allocation: requested size, count. */
  stats_sizes: Float64Array;
  /** Pairs in order of first allocation: allocator kind, count. */
  stats_kinds: Float64Array;
  /**
   * Sextuples per location live at the peak, in order of first allocation: Python stack node,
   * native stack node, thread id, allocator kind (both of the first allocation), bytes, count.
   */
  peak_locations: Float64Array;
  /**
   * The heap at each RSS sample (after every event with a lower seq), in the order of the
   * samples among `cold_records`; empty when the fold saw none (a memray capture's fold may not
   * register them).
   */
  rss_heap: Float64Array;
  /** Sextuples per location live at the end (the leaks), as `peak_locations`. */
  leak_locations: Float64Array;
}

const FOLD_SCALARS = 8;
const FOLD_ARRAYS = [
  ["threads", Uint32Array],
  ["cold_records", Float64Array],
  ["py_frames", Float64Array],
  ["py_tree", Int32Array],
  ["native_ips", Float64Array],
  ["native_tree", Int32Array],
  ["stats_nodes", Float64Array],
  ["stats_sizes", Float64Array],
  ["stats_kinds", Float64Array],
  ["peak_locations", Float64Array],
  ["rss_heap", Float64Array],
  ["leak_locations", Float64Array],
] as const;

/**
 * Decodes the events of an uncompressed capture of ours and folds them, in native code on a
 * worker thread, into what `stats` and the peak snapshot need, in one pass. Resolves to undefined
 * when the capture needs the TypeScript scan (lib/capture/event_scan.ts): one it rejects, which
 * it then reports with its own message. Rejects with {@link ReportLibError} when memory runs out.
 * `bytes` must not change until it settles.
 */
export async function foldCapture(
  bytes: Uint8Array,
  layout: FoldLayout,
  options: FoldOptions = {},
): Promise<CaptureFold | undefined> {
  const { symbols } = options.lib ?? defaultLib();
  const flags = (layout.packed ? 1 : 0) | (options.merge_threads ? 2 : 0);
  return await foldWithProgress(
    symbols,
    options.onProgress,
    (progress) =>
      symbols.memrayd_fold_capture(
        bytes,
        BigInt(bytes.length),
        layout.header_size_bytes,
        layout.chunk_size_bytes,
        flags,
        progress,
      ),
  );
}

/** Where memray's record stream is, for {@link foldMemray}. */
export interface MemrayStreamLayout {
  /** Offset of the first record (the header's size). */
  start: number;
  /** Offset where the written data ends (zero padding trimmed). */
  end: number;
  native_traces: boolean;
}

/**
 * Decodes the record stream of a memray 1.20 ALL_ALLOCATIONS capture (decompressed) and folds it
 * natively, as {@link foldCapture} folds ours, into the same result; the Python frames' code ids
 * and the thread ids are memray's, and `cold_records` lists the CODE_OBJECT, THREAD_RECORD,
 * MEMORY_RECORD, MEMORY_MAP_START and SEGMENT_HEADER records (offset, memray thread id, seq) for
 * lib/memray_format to decode. Resolves to undefined when the capture needs the TypeScript reader
 * (one it rejects or reads differently). `bytes` must not change until it settles.
 */
export async function foldMemray(
  bytes: Uint8Array,
  layout: MemrayStreamLayout,
  options: FoldOptions = {},
): Promise<CaptureFold | undefined> {
  const { symbols } = options.lib ?? defaultLib();
  const flags = (layout.native_traces ? 1 : 0) | (options.merge_threads ? 2 : 0);
  return await foldWithProgress(
    symbols,
    options.onProgress,
    (progress) =>
      symbols.memrayd_fold_memray(
        bytes,
        BigInt(bytes.length),
        BigInt(layout.start),
        BigInt(layout.end),
        flags,
        progress,
      ),
  );
}

/**
 * Runs a nonblocking native fold, calling `onProgress` about every 100 ms while it runs, and
 * reads its result. `fold` gets the progress words: [0] bytes decoded, [1] all of them, written
 * by the worker thread and read here.
 */
async function foldWithProgress(
  symbols: ReportLib["symbols"],
  onProgress: ((fraction: number) => void) | undefined,
  fold: (progress: BigUint64Array) => Promise<Deno.PointerValue>,
): Promise<CaptureFold | undefined> {
  const progress = new BigUint64Array(2);
  const timer = onProgress === undefined ? undefined : setInterval(() => {
    const total = Number(progress[1]);
    onProgress(total > 0 ? Number(progress[0]) / total : 0);
  }, 100);
  let result: Deno.PointerValue;
  try {
    result = await fold(progress);
  } finally {
    clearInterval(timer);
  }
  return readFold(symbols, result);
}

/** Copies a fold result (native/report/fold_result.zig) into a {@link CaptureFold} and frees it. */
function readFold(
  symbols: ReportLib["symbols"],
  result: Deno.PointerValue,
): CaptureFold | undefined {
  if (result === null) throw nativeError("fold the capture's events", ERROR_OUT_OF_MEMORY);
  try {
    const view = new Deno.UnsafePointerView(result);
    const scalar = (i: number) => view.getFloat64(8 * i);
    const status = scalar(0);
    if (status === ERROR_CORRUPT) return undefined;
    if (status !== 0) throw nativeError("fold the capture's events", status);
    const arrays: Record<string, unknown> = {};
    FOLD_ARRAYS.forEach(([name, Type], i) => {
      const at = 8 * FOLD_SCALARS + 16 * i;
      const byte_length = Number(view.getBigUint64(at + 8));
      const array = new Type(byte_length / Type.BYTES_PER_ELEMENT);
      const pointer = view.getPointer(at);
      if (byte_length > 0 && pointer !== null) {
        new Deno.UnsafePointerView(pointer).copyInto(array);
      }
      arrays[name] = array;
    });
    return {
      event_count: scalar(1),
      alloc_count: scalar(2),
      alloc_bytes: scalar(3),
      peak_bytes: scalar(4),
      peak_index: scalar(5),
      end_heap_bytes: scalar(6),
      cut_off: scalar(7) !== 0,
      ...arrays,
    } as CaptureFold;
  } finally {
    symbols.memrayd_fold_free(result);
  }
}
