/**
 * Native frames for `--native` captures: (module, address) -> function, file, line, with inlined
 * calls expanded, by the Zig symbolizer of the report library (native/symbolize/). Each module
 * file is opened once per `Symbolizer`; every address is resolved once and cached natively.
 *
 * ```ts
 * const symbolizer = await Symbolizer.open({ debug_dirs: ["/opt/debug"] });
 * const hit = moduleIndex.find(ip);
 * if (hit) console.log(symbolizer.symbolize(hit.module, hit.offset)); // leaf first
 * symbolizer.close();
 * ```
 */
import type { ModuleMap } from "../capture/records.ts";
import {
  loadReportLib,
  type NativeSymbolizerCalls,
  openNativeSymbolizer,
  type ReportLib,
} from "../ffi.ts";

/** One frame of a native address, innermost first in a list. */
export interface NativeFrame {
  /** Demangled function name; `<unknown>` when neither DWARF nor a symbol table names it. */
  function: string;
  /** Source file (full path as DWARF records it); "" without line information. */
  file: string;
  /** 1-based line; 0 without line information. */
  line: number;
  /** The module's path. */
  module: string;
  /** The function was inlined into the next frame of the list. */
  inlined: boolean;
}

/** What a module offers the symbolizer, for the report's warnings. */
export interface ModuleSymbolInfo {
  /** It has a symbol table (.symtab or .dynsym): function names at least. */
  has_symbols: boolean;
  /** It (or its separate debug file) has DWARF: files, lines, inlined calls. */
  has_debug_info: boolean;
  /** The separate debug file used, when there is one. */
  debug_file?: string;
  /** Why something is missing (unreadable file, changed build-id, corrupt DWARF). */
  note?: string;
}

/** Options for {@link Symbolizer.open}. */
export interface SymbolizerOpenOptions {
  /** Extra debug-file directories (`--debug-dir`), searched before /usr/lib/debug. */
  debug_dirs?: readonly string[];
  /** The report library (default: the one `loadReportLib()` loads). */
  lib?: ReportLib;
}

/** Options for {@link Symbolizer.symbolize}. */
export interface SymbolizeOptions {
  /**
   * The offset is a return address (every ip of a capture's native stacks is): the call
   * instruction before it is looked up. Default true; false for exact code addresses.
   */
  is_return_address?: boolean;
}

const UNKNOWN = "<unknown>";
const FLAG_INLINED = 1;
const FLAG_HAS_SYMBOLS = 1;
const FLAG_HAS_DEBUG_INFO = 2;

/** Symbolizes module offsets; one per report. Not safe for concurrent use. */
export class Symbolizer {
  readonly #calls: NativeSymbolizerCalls;
  readonly #modules = new Map<string, number>();
  readonly #strings: string[] = [];
  #out = new Uint32Array(1 << 18);
  #closed = false;

  private constructor(calls: NativeSymbolizerCalls) {
    this.#calls = calls;
  }

  /** Loads the report library if needed and creates a symbolizer. */
  static async open(options: SymbolizerOpenOptions = {}): Promise<Symbolizer> {
    const lib = options.lib ?? await loadReportLib();
    return new Symbolizer(openNativeSymbolizer(options.debug_dirs ?? [], { lib }));
  }

  /**
   * Uses `path` as the debug file of modules with this build-id (bytes or hex), e.g. one
   * debuginfod downloaded. A module already opened without debug information is reopened.
   */
  addDebugFile(build_id: Uint8Array | string, path: string): void {
    this.#check();
    const id = typeof build_id === "string" ? hexBytes(build_id) : build_id;
    if (id.length === 0) throw new Error(`Cannot register the debug file ${path}: empty build-id`);
    this.#calls.addDebugFile(id, path);
  }

  /** Whether the module has symbols and debug information (opens it if needed). */
  moduleInfo(module: ModuleMap): ModuleSymbolInfo {
    const info = this.#calls.moduleInfo(this.#moduleIndex(module));
    return {
      has_symbols: (info.flags & FLAG_HAS_SYMBOLS) !== 0,
      has_debug_info: (info.flags & FLAG_HAS_DEBUG_INFO) !== 0,
      ...(info.debug_file ? { debug_file: info.debug_file } : {}),
      ...(info.note ? { note: info.note } : {}),
    };
  }

  /** The frames of one address (`ip - load_base`), leaf first, inlined calls expanded. */
  symbolize(module: ModuleMap, offset: number, options: SymbolizeOptions = {}): NativeFrame[] {
    return this.symbolizeMany(module, [offset], options)[0];
  }

  /** The frames of many addresses of one module, in one native call per ~64k frames. */
  symbolizeMany(
    module: ModuleMap,
    offsets: readonly number[],
    options: SymbolizeOptions = {},
  ): NativeFrame[][] {
    const index = this.#moduleIndex(module);
    const back = (options.is_return_address ?? true) ? 1 : 0;
    const addresses = new BigUint64Array(offsets.length);
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i];
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new Error(`Cannot symbolize the offset ${offset}: not an address`);
      }
      addresses[i] = BigInt(Math.max(0, offset - back));
    }
    const result: NativeFrame[][] = [];
    while (result.length < offsets.length) {
      let step = this.#tryBatch(index, addresses, result.length);
      if (step.done === 0) {
        this.#out = new Uint32Array(this.#out.length * 2);
        step = this.#tryBatch(index, addresses, result.length);
      }
      this.#loadStrings();
      decode(this.#out, step.done, this.#strings, module.path, result);
    }
    return result;
  }

  /** Frees the native symbolizer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.close();
  }

  #tryBatch(index: number, addresses: BigUint64Array, start: number) {
    try {
      return this.#calls.symbolize(index, addresses, start, this.#out);
    } catch (error) {
      // Output full: not even one address fitted (a deep inline chain); the caller grows it.
      if ((error as Error).message.includes("too small")) return { done: 0, words: 0 };
      throw error;
    }
  }

  #moduleIndex(module: ModuleMap): number {
    this.#check();
    let index = this.#modules.get(module.path);
    if (index === undefined) {
      index = this.#calls.openModule(module.path, module.build_id);
      this.#modules.set(module.path, index);
    }
    return index;
  }

  #loadStrings(): void {
    for (const text of this.#calls.stringsFrom(this.#strings.length)) this.#strings.push(text);
  }

  #check(): void {
    if (this.#closed) throw new Error("Cannot use the symbolizer: it is closed");
  }
}

function decode(
  words: Uint32Array,
  count: number,
  strings: readonly string[],
  module: string,
  into: NativeFrame[][],
): void {
  let position = 0;
  for (let i = 0; i < count; i++) {
    const frameCount = words[position++];
    const frames: NativeFrame[] = [];
    for (let f = 0; f < frameCount; f++, position += 4) {
      const name = strings[words[position]];
      frames.push({
        function: name === "" || name === undefined ? UNKNOWN : name,
        file: strings[words[position + 1]] ?? "",
        line: words[position + 2],
        module,
        inlined: (words[position + 3] & FLAG_INLINED) !== 0,
      });
    }
    into.push(frames);
  }
}

function hexBytes(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`Cannot use the build-id ${hex}: not hex`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * The warning a report prints for a module lacking symbols or debug information (memray warns
 * the same way about the interpreter), or undefined when it has both. `name` is how to call the
 * module ("the Python interpreter", a path).
 */
export function symbolSupportWarning(name: string, info: ModuleSymbolInfo): string | undefined {
  const note = info.note ? ` (${info.note})` : "";
  if (!info.has_symbols) {
    return `No symbol information was found for ${name}: its native frames will show as ` +
      `<unknown>${note}`;
  }
  if (!info.has_debug_info) {
    return `No debug information was found for ${name}: its native frames will have function ` +
      `names but no file and line numbers${note}`;
  }
  return undefined;
}
