/**
 * The one place reports get stacks from: given a capture, a stack is its Python frames (launcher
 * hidden on the main thread), or, for a native capture, its merged native+Python frames with
 * CPython's own frames dropped (memray's hybrid stacks, reference §4.6 and §2.2).
 *
 * Native instruction pointers are symbolized once each (through a symbolizer, the Zig library
 * behind lib/native/symbolizer.ts), after debug files of modules that lack them were fetched
 * from debuginfod for the modules the stacks actually touch.
 */
import type { CaptureInfo } from "../capture/event_scan.ts";
import type { EventColumns } from "../capture/events.ts";
import type { ModuleMap } from "../capture/records.ts";
import { ModuleIndex } from "../capture/module_index.ts";
import { buildIdHex, DebuginfodClient, type DebuginfodOptions } from "../native/debuginfod.ts";
import { Symbolizer } from "../native/symbolizer.ts";
import {
  dropCpythonInternal,
  type MergedFrame,
  mergeStacks,
  type NativeFrameLike,
  type PythonFrameLike,
} from "./merged_stacks.ts";

/** What the resolver needs of a symbolizer (lib/native/symbolizer.ts's Symbolizer fits). */
export interface SymbolizerLike {
  /**
   * Frames of one address, leaf first, inlined frames expanded. The resolver passes the exact
   * address of the call (`ip - 1 - load_base`) with `is_return_address: false`, so the
   * symbolizer must not step back again.
   */
  symbolize(
    module: ModuleMap,
    offset: number,
    options?: { is_return_address?: boolean },
  ): NativeFrameLike[];
  moduleInfo(
    module: ModuleMap,
  ): { has_symbols: boolean; has_debug_info: boolean; debug_file?: string };
  addDebugFile(build_id: string, path: string): void;
  close(): void;
}

/** Options of {@link StackResolver.open}. */
export interface StackResolverOptions {
  /** Merge native frames (default: when the capture has native traces). */
  native?: boolean;
  /** Extra debug-file directories (`--debug-dir`). */
  debug_dirs?: string[];
  /** debuginfod settings, a client, or false (`--no-debuginfod`). Default: from the environment. */
  debuginfod?: DebuginfodOptions | DebuginfodClient | false;
  /** Keep CPython's own native frames (default false: dropped, as memray's reports do). */
  keep_cpython_internal?: boolean;
  /** The symbolizer to use (tests); default: lib/native/symbolizer.ts opened with debug_dirs. */
  symbolizer?: SymbolizerLike;
}

/** What reports need of a resolver: the stack of a location (see {@link StackResolver.frames}). */
export interface StackFrames {
  frames(py_stack: number, native_stack: number, thread_id: number, seq?: number): MergedFrame[];
}

/** A capture as the resolver reads it: events are needed only by {@link StackResolver.eventFrames}. */
export type ResolvableCapture = CaptureInfo & { events?: EventColumns };

/** What the modules native stacks touch lack (see {@link StackResolver.missingSymbols}). */
export interface MissingSymbols {
  /** The interpreter's module when it has no symbols, or symbols but no debug info. */
  interpreter?: { path: string; lacks: "symbols" | "debug_info" };
  /** Other modules with no symbols at all, by path. */
  modules_without_symbols: string[];
}

/**
 * The modules holding the interpreter loop: libpython when it is loaded (the executable is then
 * a stub), else the executable (`python_executable`, or a `pythonX.Y` file).
 */
export function interpreterModules(
  modules: readonly ModuleMap[],
  python_executable?: string,
): ModuleMap[] {
  const base = (path: string) => path.slice(path.lastIndexOf("/") + 1);
  const libpython = modules.filter((m) => /^libpython\d[\w.]*\.so/.test(base(m.path)));
  if (libpython.length > 0) return libpython;
  return modules.filter((m) =>
    (python_executable !== undefined && m.path === python_executable) ||
    /^python\d*(\.\d+)?[a-z]*$/.test(base(m.path))
  );
}

const UNKNOWN_MODULE_FRAME = { function: "<unknown>", file: "<unknown>", line: 0 };

/** Resolves stacks of one capture; call {@link close} when the report is done. */
export class StackResolver implements StackFrames {
  readonly native: boolean;
  readonly #capture: ResolvableCapture;
  readonly #symbolizer: SymbolizerLike | undefined;
  readonly #modules: ModuleIndex;
  readonly #keep_internal: boolean;
  /** MODULES record seqs, ascending: an event's generation is the last one at or before it. */
  readonly #generation_seqs: number[];
  readonly #native_frames = new Map<number, NativeFrameLike[]>();
  readonly #stacks = new Map<string, MergedFrame[]>();

  private constructor(
    capture: ResolvableCapture,
    symbolizer: SymbolizerLike | undefined,
    keep_internal: boolean,
  ) {
    this.#capture = capture;
    this.#symbolizer = symbolizer;
    this.native = symbolizer !== undefined;
    this.#modules = new ModuleIndex(capture.module_maps);
    this.#generation_seqs = capture.module_maps.map((m) => m.seq).sort((a, b) => a - b);
    this.#keep_internal = keep_internal;
  }

  /** A resolver of Python stacks only (launcher hidden), as every non-native capture gets. */
  static python(capture: ResolvableCapture, options: { keep_cpython_internal?: boolean } = {}) {
    return new StackResolver(capture, undefined, options.keep_cpython_internal ?? false);
  }

  /** A resolver for `capture`; fetches missing debug files first when stacks are native. */
  static async open(
    capture: ResolvableCapture,
    options: StackResolverOptions = {},
  ): Promise<StackResolver> {
    const native = options.native ?? capture.header.native_traces;
    if (!native) {
      return new StackResolver(capture, undefined, options.keep_cpython_internal ?? false);
    }
    const symbolizer = options.symbolizer ?? await openSymbolizer(options.debug_dirs ?? []);
    const resolver = new StackResolver(capture, symbolizer, options.keep_cpython_internal ?? false);
    if (options.debuginfod !== false) {
      const client = options.debuginfod instanceof DebuginfodClient
        ? options.debuginfod
        : new DebuginfodClient(options.debuginfod ?? {});
      await resolver.#fetchDebugFiles(client);
    }
    return resolver;
  }

  /** The modules native stacks of the capture point into (each once). */
  usedModules(): ModuleMap[] {
    const used = new Set<ModuleMap>();
    for (const ip of this.#capture.native.frames.ip) {
      const hit = this.#modules.find(ip - 1);
      if (hit) used.add(hit.module);
    }
    return [...used];
  }

  /** What symbols the modules of the native stacks lack; nothing when stacks are Python-only. */
  missingSymbols(): MissingSymbols {
    const out: MissingSymbols = { modules_without_symbols: [] };
    const symbolizer = this.#symbolizer;
    if (symbolizer === undefined) return out;
    const used = this.usedModules();
    const executable = this.#capture.header.metadata.python_executable;
    const interpreter = new Set(interpreterModules(used, executable));
    for (const module of interpreter) {
      const info = symbolizer.moduleInfo(module);
      if (!info.has_symbols) out.interpreter = { path: module.path, lacks: "symbols" };
      else if (!info.has_debug_info && out.interpreter === undefined) {
        out.interpreter = { path: module.path, lacks: "debug_info" };
      }
    }
    for (const module of used) {
      if (interpreter.has(module) || symbolizer.moduleInfo(module).has_symbols) continue;
      if (!out.modules_without_symbols.includes(module.path)) {
        out.modules_without_symbols.push(module.path);
      }
    }
    return out;
  }

  async #fetchDebugFiles(client: DebuginfodClient): Promise<void> {
    const symbolizer = this.#symbolizer!;
    if (!client.active) return;
    const wanted = this.usedModules().filter((m) =>
      m.build_id.length > 0 && !symbolizer.moduleInfo(m).has_debug_info
    );
    const found = await Promise.all(wanted.map((m) => client.debuginfo(m.build_id)));
    found.forEach((path, i) => {
      if (path !== undefined) symbolizer.addDebugFile(buildIdHex(wanted[i].build_id), path);
    });
  }

  /**
   * The stack of an allocation, leaf first: Python frames only, or merged with native frames.
   * `seq` picks the module map current at the event (default: the latest).
   */
  frames(py_stack: number, native_stack: number, thread_id: number, seq?: number): MergedFrame[] {
    const generation = this.native && native_stack !== 0 ? this.#generation(seq) : 0;
    const main = thread_id === this.#capture.main_thread_id ? 1 : 0;
    const key = `${py_stack}:${native_stack}:${main}:${generation}`;
    const cached = this.#stacks.get(key);
    if (cached !== undefined) return cached;
    const result = this.#resolve(py_stack, native_stack, thread_id, generation);
    this.#stacks.set(key, result);
    return result;
  }

  /** The stack of event `index` of the capture's event columns. */
  eventFrames(index: number): MergedFrame[] {
    const events = this.#capture.events;
    if (events === undefined) throw new Error("eventFrames needs a capture read with its events");
    return this.frames(
      events.py_stack[index],
      events.native_stack[index],
      events.thread[index],
      events.seq[index],
    );
  }

  /** Index of the module map current at `seq` (the first one for earlier events). */
  #generation(seq: number | undefined): number {
    const seqs = this.#generation_seqs;
    if (seq === undefined) return Math.max(0, seqs.length - 1);
    let low = 0;
    let high = seqs.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (seqs[middle] <= seq) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }

  #resolve(
    py_stack: number,
    native_stack: number,
    thread_id: number,
    generation: number,
  ): MergedFrame[] {
    const stacks = this.#capture.python;
    const main = thread_id === this.#capture.main_thread_id;
    const all_ids = stacks.frameIds(py_stack, false);
    if (!this.native) {
      return stacks.frameIds(py_stack, main).map((id) => {
        const f = stacks.frame(id);
        return { kind: "python", function: f.function, file: f.filename, line: f.lineno };
      });
    }
    const python: PythonFrameLike[] = all_ids.map((id) => ({
      ...stacks.frame(id),
      is_entry: stacks.frame_table.is_entry[id] !== 0,
    }));
    const launcher_frames = main ? all_ids.length - stacks.frameIds(py_stack, true).length : 0;
    const native: NativeFrameLike[] = [];
    for (const frame_id of this.#capture.native.tree.frames(native_stack)) {
      native.push(...this.#symbolize(frame_id, generation));
    }
    const merged = mergeStacks(native, python, { launcher_frames });
    return this.#keep_internal ? merged : dropCpythonInternal(merged);
  }

  /**
   * Frames of one interned instruction pointer. Every ip of a native stack is a return address
   * (the leaf's too: the engine's hook was called): the call is at ip - 1, found in its module
   * here and passed as an exact address, so the step back happens once.
   */
  #symbolize(frame_id: number, generation: number): NativeFrameLike[] {
    const key = frame_id * 65536 + Math.min(generation, 65535);
    const cached = this.#native_frames.get(key);
    if (cached !== undefined) return cached;
    const ip = this.#capture.native.frames.ip[frame_id];
    const seq = this.#generation_seqs[generation];
    // The map written after a dlopen can come later than the library's first events: an address
    // in no module of its own generation is looked up in the latest map.
    const hit = this.#modules.find(ip - 1, seq) ?? this.#modules.find(ip - 1);
    let frames: NativeFrameLike[];
    if (hit === undefined) {
      frames = [{ ...UNKNOWN_MODULE_FRAME, module: "" }];
    } else {
      frames = this.#symbolizer!.symbolize(hit.module, hit.offset, { is_return_address: false });
      if (frames.length === 0) frames = [{ ...UNKNOWN_MODULE_FRAME, module: hit.module.path }];
    }
    this.#native_frames.set(key, frames);
    return frames;
  }

  /** Releases the symbolizer. */
  close(): void {
    this.#symbolizer?.close();
  }
}

/** Opens lib/native/symbolizer.ts's Symbolizer with the `--debug-dir` directories. */
export async function openSymbolizer(debug_dirs: string[]): Promise<SymbolizerLike> {
  return await Symbolizer.open({ debug_dirs });
}
