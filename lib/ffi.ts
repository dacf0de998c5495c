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
export const REPORT_ABI_VERSION = 2;

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
} as const satisfies Deno.ForeignLibraryInterface;

/** Negative results of the native functions (native/report/lib.zig). */
const ERROR_OUTPUT_FULL = -1;
const ERROR_CORRUPT = -2;
const ERROR_UNSUPPORTED = -3;
const ERROR_SIZE_UNKNOWN = -4;
const ERROR_OUT_OF_MEMORY = -5;
const ERROR_NEEDS_DECODING = -6;
const ERROR_IO = -7;

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
  }[code] ?? `error code ${code}`;
  return new ReportLibError(`Cannot ${action}: ${reason}`);
}
