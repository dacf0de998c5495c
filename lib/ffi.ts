/**
 * The report library (`libmemrayd_report.so`, built from native/report/): the one module that
 * holds its FFI symbol table, finds it (lib/native_lib.ts: `MEMRAY_DENO_REPORT_LIB`, then the
 * local build, then the copy embedded in a compiled binary) and wraps its calls in typed
 * functions. Needs `--allow-ffi` (and `--allow-read`/`--allow-env` for the lookup).
 *
 * Loading is asynchronous (the lookup may extract a file), calls are synchronous:
 *
 * ```ts
 * await loadReportLib();
 * const frame = lz4CompressFrame(bytes);
 * ```
 */
import { CliError } from "./cli/errors.ts";
import { locateNativeLib, NativeLibSources, REPORT_LIB } from "./native_lib.ts";

/** The ABI version this module speaks (native/report/lib.zig `abi_version`). */
export const REPORT_ABI_VERSION = 9;

const SYMBOLS = {
  memrayd_report_abi_version: { parameters: [], result: "u32" },
  memrayd_lz4_frame_bound: { parameters: ["usize"], result: "usize" },
  memrayd_lz4_compress_frame: { parameters: ["buffer", "usize", "buffer", "usize"], result: "i64" },
  memrayd_lz4_frame_content_size: { parameters: ["buffer", "usize"], result: "i64" },
  memrayd_lz4_decompress_frame: {
    parameters: ["buffer", "usize", "buffer", "usize"],
    result: "i64",
  },
  memrayd_compress_capture: { parameters: ["buffer", "buffer"], result: "i64" },
  // Nonblocking: it runs on a worker thread while the caller draws progress.
  memrayd_fold_capture: {
    parameters: ["buffer", "usize", "u32", "u32", "u32", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  memrayd_fold_free: { parameters: ["pointer"], result: "void" },
  memrayd_fold_memray: {
    parameters: ["buffer", "usize", "usize", "usize", "u32", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  memrayd_lz4_file_content_size: { parameters: ["buffer"], result: "i64" },
  memrayd_lz4_decompress_file: { parameters: ["buffer", "buffer", "usize"], result: "i64" },
  // The symbolizer (native/symbolize/api.zig), wrapped by NativeSymbolizerCalls below.
  memrayd_sym_create: { parameters: ["buffer", "usize"], result: "pointer" },
  memrayd_sym_destroy: { parameters: ["pointer"], result: "void" },
  memrayd_sym_add_debug_file: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize"],
    result: "i64",
  },
  memrayd_sym_open_module: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize"],
    result: "i64",
  },
  memrayd_sym_module_info: { parameters: ["pointer", "u32", "buffer", "usize"], result: "i64" },
  memrayd_sym_symbolize: {
    parameters: ["pointer", "u32", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "i64",
  },
  memrayd_sym_string_count: { parameters: ["pointer"], result: "i64" },
  memrayd_sym_strings: { parameters: ["pointer", "u32", "buffer", "usize"], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Negative results of the native functions (native/report/lib.zig). */
const ERROR_OUTPUT_FULL = -1;
const ERROR_CORRUPT = -2;
const ERROR_UNSUPPORTED = -3;
const ERROR_SIZE_UNKNOWN = -4;
const ERROR_OUT_OF_MEMORY = -5;
const ERROR_NEEDS_DECODING = -6;
const ERROR_IO = -7;
const ERROR_NOT_LZ4 = -8;

/** Thrown when the native code refuses its input. The message is one line. */
export class ReportLibError extends Error {
  override name = "ReportLibError";
}

/** An opened report library. */
export interface ReportLib {
  /** The file that was opened. */
  readonly path: string;
  /** The raw symbols; prefer the typed wrappers below. */
  readonly symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
  /** Unloads the library; later calls through it are undefined behaviour. */
  close(): void;
}

/** Options for {@link loadReportLib}. */
export interface LoadReportLibOptions {
  /** Where to look (default: `defaultNativeLibSources(REPORT_LIB)`). Not cached when given. */
  sources?: NativeLibSources;
}

let loaded: ReportLib | undefined;
let loading: Promise<ReportLib> | undefined;

/**
 * Finds and opens the report library and checks its ABI version. With default sources the
 * result is cached for the process and becomes the one the wrappers use by default.
 */
export function loadReportLib(options: LoadReportLibOptions = {}): Promise<ReportLib> {
  if (options.sources !== undefined) return openAt(options.sources);
  loading ??= openAt(undefined).then((lib) => loaded = lib, (error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function openAt(sources: NativeLibSources | undefined): Promise<ReportLib> {
  const path = await locateNativeLib(sources, REPORT_LIB);
  let library: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    library = Deno.dlopen(path, SYMBOLS);
  } catch (error) {
    throw new CliError(
      `Cannot load the report library ${path}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const version = library.symbols.memrayd_report_abi_version();
  if (version !== REPORT_ABI_VERSION) {
    library.close();
    throw new CliError(
      `Cannot use the report library ${path}: it has ABI version ${version}, this CLI needs ` +
        `${REPORT_ABI_VERSION} (run scripts/setup.sh to rebuild it)`,
    );
  }
  return { path, symbols: library.symbols, close: () => library.close() };
}

function defaultLib(): ReportLib {
  if (loaded === undefined) {
    throw new ReportLibError(
      "Cannot call the report library: it is not loaded (await loadReportLib() first)",
    );
  }
  return loaded;
}

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

function cString(text: string): Uint8Array {
  if (text.includes("\0")) throw new ReportLibError(`Cannot use the path ${text}: it holds a NUL`);
  return new TextEncoder().encode(`${text}\0`);
}

function nativeError(action: string, code: number): ReportLibError {
  const reason = {
    [ERROR_OUTPUT_FULL]: "the output buffer is too small",
    [ERROR_CORRUPT]: "the data is not an LZ4 frame or is damaged",
    [ERROR_UNSUPPORTED]: "the frame uses an unsupported feature (dictionary id or legacy format)",
    [ERROR_SIZE_UNKNOWN]: "a frame header has no content size",
    [ERROR_OUT_OF_MEMORY]: "out of memory",
    [ERROR_NEEDS_DECODING]: "its records need decoding",
    [ERROR_IO]: "a file cannot be opened, mapped or written",
    [ERROR_NOT_LZ4]: "it is not an LZ4 frame",
  }[code] ?? `error code ${code}`;
  return new ReportLibError(`Cannot ${action}: ${reason}`);
}

/** Options for {@link openNativeSymbolizer}. */
export interface NativeSymbolizerOptions {
  /** The library to use (default: the one {@link loadReportLib} loaded). */
  lib?: ReportLib;
}

/**
 * Typed calls into one native symbolizer (native/symbolize/api.zig). lib/native/symbolizer.ts
 * builds the report-facing `Symbolizer` on these; use that instead.
 */
export interface NativeSymbolizerCalls {
  /** Registers a debug file for a build-id; modules opened later use it. */
  addDebugFile(buildId: Uint8Array, path: string): void;
  /** The index of the module file (opened once); unreadable files get one too. */
  openModule(path: string, buildId: Uint8Array): number;
  /** Flags (bit0 symbols, bit1 DWARF), the debug file used ("" if none) and a note ("" if none). */
  moduleInfo(module: number): { flags: number; debug_file: string; note: string };
  /**
   * Symbolizes `addresses` from `start`: fills `out` with per address a frame count then
   * (function id, file id, line, flags) per frame. Returns addresses done and words used.
   */
  symbolize(
    module: number,
    addresses: BigUint64Array,
    start: number,
    out: Uint32Array,
  ): { done: number; words: number };
  /** Strings with ids `first`, `first + 1`, ... up to the current count. */
  stringsFrom(first: number): string[];
  /** Frees the native symbolizer; later calls are undefined behaviour. */
  close(): void;
}

/** Creates a native symbolizer searching `debugDirs` (then /usr/lib/debug) for debug files. */
export function openNativeSymbolizer(
  debugDirs: readonly string[],
  options: NativeSymbolizerOptions = {},
): NativeSymbolizerCalls {
  const { symbols } = options.lib ?? defaultLib();
  const encoder = new TextEncoder();
  const dirs = encoder.encode(debugDirs.map((dir) => dir.replaceAll("\0", "")).join("\0"));
  const handle = symbols.memrayd_sym_create(dirs, BigInt(dirs.length));
  if (handle === null) throw nativeError("create a symbolizer", ERROR_OUT_OF_MEMORY);
  const used = new BigUint64Array(1);
  let stringBuffer = new Uint8Array(1 << 16);
  const decoder = new TextDecoder();
  return {
    addDebugFile(buildId, path) {
      const bytes = encoder.encode(path);
      const code = Number(symbols.memrayd_sym_add_debug_file(
        handle,
        buildId,
        BigInt(buildId.length),
        bytes,
        BigInt(bytes.length),
      ));
      if (code < 0) throw nativeError(`register the debug file ${path}`, code);
    },
    openModule(path, buildId) {
      const bytes = encoder.encode(path);
      const index = Number(symbols.memrayd_sym_open_module(
        handle,
        bytes,
        BigInt(bytes.length),
        buildId,
        BigInt(buildId.length),
      ));
      if (index < 0) throw nativeError(`open the module ${path}`, index);
      return index;
    },
    moduleInfo(module) {
      const needed = Number(symbols.memrayd_sym_module_info(handle, module, null, 0n));
      if (needed < 0) throw nativeError("read a module's symbol information", needed);
      const out = new Uint8Array(needed);
      Number(symbols.memrayd_sym_module_info(handle, module, out, BigInt(needed)));
      const view = new DataView(out.buffer);
      const pathLength = view.getUint32(4, true);
      const noteLength = view.getUint32(8, true);
      return {
        flags: view.getUint32(0, true),
        debug_file: decoder.decode(out.subarray(12, 12 + pathLength)),
        note: decoder.decode(out.subarray(12 + pathLength, 12 + pathLength + noteLength)),
      };
    },
    symbolize(module, addresses, start, out) {
      const rest = addresses.subarray(start);
      const done = Number(symbols.memrayd_sym_symbolize(
        handle,
        module,
        rest,
        BigInt(rest.length),
        out,
        BigInt(out.length),
        used,
      ));
      if (done < 0) throw nativeError("symbolize addresses", done);
      return { done, words: Number(used[0]) };
    },
    stringsFrom(first) {
      const count = Number(symbols.memrayd_sym_string_count(handle));
      const result: string[] = [];
      // Each call writes as many strings as fit; a string larger than the buffer doubles it.
      for (let next = first; next < count;) {
        const written = Number(
          symbols.memrayd_sym_strings(handle, next, stringBuffer, BigInt(stringBuffer.length)),
        );
        if (written === ERROR_OUTPUT_FULL) {
          stringBuffer = new Uint8Array(stringBuffer.length * 2);
          continue;
        }
        if (written <= 0) throw nativeError("read symbol names", written < 0 ? written : -2);
        const view = new DataView(stringBuffer.buffer);
        let position = 0;
        for (let i = 0; i < written; i++) {
          const length = view.getUint32(position, true);
          result.push(decoder.decode(stringBuffer.subarray(position + 4, position + 4 + length)));
          position += 4 + length;
        }
        next += written;
      }
      return result;
    },
    close() {
      symbols.memrayd_sym_destroy(handle);
    },
  };
}
