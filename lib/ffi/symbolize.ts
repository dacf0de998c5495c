/**
 * The native symbolizer (native/symbolize/api.zig) through the report library (lib/ffi.ts): typed
 * calls that lib/native/symbolizer.ts builds the report-facing `Symbolizer` on.
 */
import {
  defaultLib,
  ERROR_OUT_OF_MEMORY,
  ERROR_OUTPUT_FULL,
  nativeError,
  type ReportLib,
} from "../ffi.ts";

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
