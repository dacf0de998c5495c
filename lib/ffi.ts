/**
 * The report library (`libmemrayd_report.so`, built from native/report/): the one module that
 * holds its FFI symbol table, its error codes and the opened library, and finds it
 * (lib/native_lib.ts: `MEMRAY_DENO_REPORT_LIB`, then the local build, then the copy embedded in a
 * compiled binary). The typed wrappers of its calls live in lib/ffi/ (lz4.ts, fold.ts,
 * symbolize.ts) and are re-exported here. Needs `--allow-ffi` (and `--allow-read`/`--allow-env`
 * for the lookup).
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
  // The symbolizer (native/symbolize/api.zig), wrapped in lib/ffi/symbolize.ts.
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

// Negative results of the native functions (native/report/lib.zig), for the lib/ffi/ wrappers.

/** The output buffer is too small. */
export const ERROR_OUTPUT_FULL = -1;
/** The input is damaged (or a capture the native code leaves to TypeScript). */
export const ERROR_CORRUPT = -2;
/** An LZ4 frame uses an unsupported feature. */
export const ERROR_UNSUPPORTED = -3;
/** A frame header has no content size. */
export const ERROR_SIZE_UNKNOWN = -4;
/** The native code ran out of memory. */
export const ERROR_OUT_OF_MEMORY = -5;
/** A capture's records need decoding (the TypeScript path). */
export const ERROR_NEEDS_DECODING = -6;
/** A file cannot be opened, mapped or written. */
export const ERROR_IO = -7;
/** A file does not start with an LZ4 frame. */
export const ERROR_NOT_LZ4 = -8;

/** Thrown when the native code refuses its input. The message is one line. */
export class ReportLibError extends Error {
  override name = "ReportLibError";
}

/** An opened report library. */
export interface ReportLib {
  /** The file that was opened. */
  readonly path: string;
  /** The raw symbols; prefer the typed wrappers (lib/ffi/). */
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

/**
 * The library {@link loadReportLib} loaded with default sources, for the lib/ffi/ wrappers'
 * default; throws {@link ReportLibError} when it has not been loaded yet.
 */
export function defaultLib(): ReportLib {
  if (loaded === undefined) {
    throw new ReportLibError(
      "Cannot call the report library: it is not loaded (await loadReportLib() first)",
    );
  }
  return loaded;
}

/** `text` as a NUL-terminated C string; throws {@link ReportLibError} if it holds a NUL. */
export function cString(text: string): Uint8Array {
  if (text.includes("\0")) throw new ReportLibError(`Cannot use the path ${text}: it holds a NUL`);
  return new TextEncoder().encode(`${text}\0`);
}

/** The one-line error for native result `code` (negative) while trying to `action`. */
export function nativeError(action: string, code: number): ReportLibError {
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

// The wrappers import this module in turn; the cycle is safe because no module touches the
// other's bindings while loading, only inside functions.
export {
  compressCaptureFile,
  type CompressCaptureFileOptions,
  type CompressOptions,
  type DecompressFileOptions,
  type DecompressOptions,
  lz4CompressFrame,
  lz4DecompressFile,
  lz4DecompressFrame,
  lz4FrameContentSize,
} from "./ffi/lz4.ts";
export {
  type CaptureFold,
  foldCapture,
  type FoldLayout,
  foldMemray,
  type FoldOptions,
  type MemrayStreamLayout,
} from "./ffi/fold.ts";
export {
  type NativeSymbolizerCalls,
  type NativeSymbolizerOptions,
  openNativeSymbolizer,
} from "./ffi/symbolize.ts";
