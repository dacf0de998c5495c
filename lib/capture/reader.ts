/**
 * Reads a capture (LZ4-compressed or raw; live or packed; finished or cut off by a crash) into
 * columns: events in global seq order with interned stack ids, plus code objects, threads, RSS
 * samples and module maps. Names and lines are resolved lazily through {@link PythonStacks}.
 */
import { decodeLz4Frame, isLz4Frame, Lz4Error } from "../lz4/frame.ts";
import { ChunkInfo, RecordVisitor, walkChunks } from "./chunks.ts";
import { CaptureError } from "./errors.ts";
import { EventBuilder, EventColumns } from "./events.ts";
import { CaptureHeader, mainThreadIdOf, parseHeader, SAMPLER_THREAD_ID } from "./header.ts";
import { AggregatedLocation, CodeObject, HeapSample, ModuleMap, REC_MUNMAP } from "./records.ts";
import { NativeFrameTable, PythonFrameTable, StackTree } from "./stack_tree.ts";
import { PythonStacks, pythonStacksOf } from "./python_stacks.ts";
// memray 1.20 captures (lib/memray_format): dispatched to by magic in readCaptureBytes.
import { isMemrayCapture, readMemrayCaptureBytes } from "../memray_format/reader.ts";

/** What we know about one engine thread. */
export interface ThreadInfo {
  thread_id: number;
  name?: string;
  os_tid?: number;
  /** 0 Python thread, 1 thread without a Python thread state. */
  origin?: number;
}

/** An RSS sample of the process-wide sampler. */
export interface RssSample {
  seq: number;
  time_offset_ms: number;
  rss_bytes: number;
}

/** A MODULES record. */
export interface ModuleMapsRecord {
  seq: number;
  generation: number;
  modules: ModuleMap[];
}

/**
 * A LOCATION record of an aggregated capture, with its stacks interned in the capture's trees
 * (`py_stack` in {@link Capture.python}, `native_stack` in {@link Capture.native}), so that
 * analysis treats it like a group of allocations at that location.
 */
export interface CaptureLocation extends AggregatedLocation {
  py_stack: number;
  native_stack: number;
}

/** Native stacks: a prefix tree over interned instruction pointers. */
export interface NativeStacks {
  tree: StackTree;
  frames: NativeFrameTable;
}

/** A whole capture, read. */
export interface Capture {
  path: string;
  header: CaptureHeader;
  /** True when the file was LZ4-compressed. */
  compressed: boolean;
  /** True when some chunk was cut off by the end of the file (a crash). */
  cut_off: boolean;
  events: EventColumns;
  codes: Map<number, CodeObject>;
  threads: Map<number, ThreadInfo>;
  rss: RssSample[];
  module_maps: ModuleMapsRecord[];
  python: PythonStacks;
  native: NativeStacks;
  /** LOCATION records in file order (aggregated captures only; `events` is then empty). */
  locations: CaptureLocation[];
  /**
   * HEAP_SAMPLE records (aggregated captures only). Each is also in `rss`, with seq 0 since an
   * aggregated capture has no events to order against.
   */
  heap_samples: HeapSample[];
  /** The engine thread id of the main thread (metadata `main_thread_id`, else 1). */
  main_thread_id: number;
}

/** Options for {@link readCapture} and {@link readCaptureBytes}. */
export interface ReadOptions {
  /** Refuse captures that decompress to more than this (default 64 GiB). */
  max_bytes?: number;
}

/** Reads a capture file. Throws {@link CaptureError} with a one-line message. */
export async function readCapture(path: string, options: ReadOptions = {}): Promise<Capture> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CaptureError(path, (e as Error).message.split("\n")[0]);
  }
  return readCaptureBytes(bytes, path, options);
}

/** Decompresses `bytes` if it is an LZ4 frame; `path` names it in errors. */
export function decompressIfNeeded(
  bytes: Uint8Array,
  path: string,
  options: ReadOptions = {},
): { bytes: Uint8Array; compressed: boolean } {
  if (!isLz4Frame(bytes)) return { bytes, compressed: false };
  try {
    return {
      bytes: decodeLz4Frame(bytes, { max_output_bytes: options.max_bytes }),
      compressed: true,
    };
  } catch (e) {
    if (e instanceof Lz4Error) throw new CaptureError(path, e.message);
    throw e;
  }
}

/** Reads a capture already in memory. */
export function readCaptureBytes(
  raw: Uint8Array,
  path: string,
  options: ReadOptions = {},
): Capture {
  const { bytes, compressed } = decompressIfNeeded(raw, path, options);
  // --- memray 1.20 capture dispatch (owned by lib/memray_format) ---
  if (isMemrayCapture(bytes)) return readMemrayCaptureBytes(bytes, path, compressed);
  // --- end memray dispatch ---
  const header = parseHeader(bytes, path);
  const builder = new CaptureBuilder(path);
  walkChunks(bytes, header, path, builder);
  const events = builder.events.finishInSeqOrder();
  if (header.aggregated && events.count > 0) {
    throw new CaptureError(path, "aggregated capture holds allocation records");
  }
  if (!header.aggregated && builder.locations.length > 0) {
    throw new CaptureError(path, "capture holds LOCATION records but is not aggregated");
  }
  const python = pythonStacksOf(header, {
    tree: builder.py_tree,
    frames: builder.py_frames,
    codes: builder.codes,
  });
  return {
    path,
    header,
    compressed,
    cut_off: builder.cut_off,
    events,
    codes: builder.codes,
    threads: builder.threads,
    rss: builder.rss_samples,
    module_maps: builder.module_map_records,
    python,
    native: { tree: builder.native_tree, frames: builder.native_frames },
    locations: builder.locations,
    heap_samples: builder.heap_samples,
    main_thread_id: mainThreadIdOf(header),
  };
}

interface ThreadState {
  info: ThreadInfo;
  /** Python stack as node ids, outermost first; the top is the current node. */
  py: number[];
  native: number[];
  last_seq: number;
}

/** Builds columns while the chunk walker decodes records. */
class CaptureBuilder implements RecordVisitor {
  events = new EventBuilder();
  py_tree = new StackTree();
  py_frames = new PythonFrameTable();
  native_tree = new StackTree();
  native_frames = new NativeFrameTable();
  codes = new Map<number, CodeObject>();
  threads = new Map<number, ThreadInfo>();
  rss_samples: RssSample[] = [];
  module_map_records: ModuleMapsRecord[] = [];
  locations: CaptureLocation[] = [];
  heap_samples: HeapSample[] = [];
  cut_off = false;
  #states: (ThreadState | undefined)[] = [];
  #states_big = new Map<number, ThreadState>();
  #last: ThreadState | undefined;

  constructor(readonly path: string) {}

  #state(thread_id: number): ThreadState {
    const last = this.#last;
    if (last !== undefined && last.info.thread_id === thread_id) return last;
    let s = thread_id < 65536 ? this.#states[thread_id] : this.#states_big.get(thread_id);
    if (s === undefined) {
      s = { info: { thread_id }, py: [0], native: [0], last_seq: -1 };
      this.threads.set(thread_id, s.info);
      if (thread_id < 65536) this.#states[thread_id] = s;
      else this.#states_big.set(thread_id, s);
    }
    this.#last = s;
    return s;
  }

  #event(s: ThreadState, seq: number): void {
    if (seq <= s.last_seq) {
      throw new CaptureError(
        this.path,
        `sequence numbers of thread ${s.info.thread_id} go backwards (${seq} after ${s.last_seq})`,
      );
    }
    s.last_seq = seq;
  }

  chunk(c: ChunkInfo): void {
    if (c.cut_off) this.cut_off = true;
  }

  alloc(thread_id: number, seq: number, addr: number, size: number, allocator: number): void {
    const s = this.#state(thread_id);
    this.#event(s, seq);
    this.events.push(
      seq,
      allocator,
      addr,
      size,
      thread_id,
      s.py[s.py.length - 1],
      s.native[s.native.length - 1],
    );
  }

  free(thread_id: number, seq: number, addr: number, kind: number): void {
    const s = this.#state(thread_id);
    this.#event(s, seq);
    this.events.push(seq, kind, addr, 0, thread_id, 0, 0);
  }

  munmap(thread_id: number, seq: number, addr: number, size: number): void {
    const s = this.#state(thread_id);
    this.#event(s, seq);
    this.events.push(seq, REC_MUNMAP, addr, size, thread_id, 0, 0);
  }

  /** Pops `pops` frames off a thread's stack and returns its new top; the root cannot go. */
  #pop(stack: number[], pops: number, thread_id: number, what: string): number {
    if (pops >= stack.length) {
      throw new CaptureError(
        this.path,
        `thread ${thread_id} pops ${pops} ${what} frames from a stack of ${stack.length - 1}`,
      );
    }
    stack.length -= pops;
    return stack[stack.length - 1];
  }

  pyStack(thread_id: number, pops: number, pushes: number, frames: number[]): void {
    const stack = this.#state(thread_id).py;
    let node = this.#pop(stack, pops, thread_id, "Python");
    for (let i = 0; i < pushes; i++) {
      const f = this.py_frames.intern(frames[3 * i], frames[3 * i + 1], frames[3 * i + 2]);
      node = this.py_tree.child(node, f);
      stack.push(node);
    }
  }

  nativeStack(thread_id: number, pops: number, pushes: number, ips: number[]): void {
    const stack = this.#state(thread_id).native;
    let node = this.#pop(stack, pops, thread_id, "native");
    for (let i = 0; i < pushes; i++) {
      node = this.native_tree.child(node, this.native_frames.intern(ips[i]));
      stack.push(node);
    }
  }

  code(code: CodeObject): void {
    if (this.codes.has(code.code_id)) {
      throw new CaptureError(this.path, `code id ${code.code_id} is defined twice`);
    }
    this.codes.set(code.code_id, code);
  }

  threadName(thread_id: number, name: string): void {
    // In aggregated captures the sampler names the thread a THREAD_SELECT picked.
    const target = thread_id === SAMPLER_THREAD_ID && this.#selected !== 0
      ? this.#selected
      : thread_id;
    this.#state(target).info.name = name;
  }

  threadInfo(thread_id: number, os_tid: number, origin: number): void {
    const info = this.#state(thread_id).info;
    info.os_tid = os_tid;
    info.origin = origin;
  }

  rss(seq: number, time_offset_ms: number, rss_bytes: number): void {
    this.rss_samples.push({ seq, time_offset_ms, rss_bytes });
  }

  modules(seq: number, generation: number, modules: ModuleMap[]): void {
    this.module_map_records.push({ seq, generation, modules });
  }

  #selected = 0;
  threadSelect(thread_id: number): void {
    this.#selected = thread_id;
  }

  heapSample(time_offset_ms: number, rss_bytes: number, heap_bytes: number): void {
    this.heap_samples.push({ time_offset_ms, rss_bytes, heap_bytes });
    this.rss_samples.push({ seq: 0, time_offset_ms, rss_bytes });
  }

  location(location: AggregatedLocation): void {
    this.#state(location.thread_id); // The thread exists even when it was never named.
    let py_stack = 0;
    const py = location.python_frames;
    for (let i = 0; i < py.length; i += 3) {
      py_stack = this.py_tree.child(py_stack, this.py_frames.intern(py[i], py[i + 1], py[i + 2]));
    }
    let native_stack = 0;
    for (const ip of location.native_ips) {
      native_stack = this.native_tree.child(native_stack, this.native_frames.intern(ip));
    }
    this.locations.push({ ...location, py_stack, native_stack });
  }
}
