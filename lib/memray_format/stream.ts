/**
 * Decodes the records of a memray ALL_ALLOCATIONS stream (reference §3.3-3.4) straight into our
 * columns: no object per record. memray's stream is one global sequence, so each event's `seq` is
 * its position among events, RSS samples and module maps; the columns come out already sorted.
 */
import { Cursor } from "../capture/cursor.ts";
import { ModuleMap, REC_MUNMAP } from "../capture/records.ts";
import {
  KIND_OF_MEMRAY_ALLOCATOR,
  MEMRAY_FREE,
  MEMRAY_MUNMAP,
  MEMRAY_PYMALLOC_FREE,
} from "./allocators.ts";
import { MemrayParts } from "./parts.ts";
import { decodeCodeObject, decodeSegmentHeader, failIn, readCString } from "./shared_records.ts";

// Whole-byte record types (the byte has none of the flag bits 0xF0 set).
const FILLER = 0;
const TRAILER = 1;
const MEMORY_RECORD = 2;
const NATIVE_TRACE_INDEX = 5;
const MEMORY_MAP_START = 6;
const SEGMENT_HEADER = 7;
const THREAD_RECORD = 10;
const CONTEXT_SWITCH = 12;
const CODE_OBJECT = 14;

/** Entries of memray's most-recently-inserted pointer cache; index 15 means "miss". */
const POINTER_CACHE_SIZE = 15;
const POINTER_CACHE_MISS = 15;
/** Slots of the FRAME_PUSH memo, minus one (a power of two). */
const PUSH_MEMO_MASK = 4095;

/** Where {@link decodeStream} puts events (in seq order): `parts.events` unless told. */
export interface EventSink {
  push(
    seq: number,
    kind: number,
    addr: number,
    size: number,
    thread: number,
    py_stack: number,
    native_stack: number,
  ): void;
}

/** Per memray thread: its Python stack as our tree nodes, outermost first (0 = root). */
interface StreamThread {
  tid: number;
  py: number[];
}

/**
 * Decodes `bytes[start..end)` into `parts`, its events into `events` (default `parts.events`). A
 * record cut by the end of the data (a crash) ends the stream with `parts.cut_off` set; an
 * unknown record type is an error, as in memray.
 */
export function decodeStream(
  bytes: Uint8Array,
  start: number,
  end: number,
  native_traces: boolean,
  parts: MemrayParts,
  path: string,
  events: EventSink = parts.events,
): void {
  const fail = failIn(path);
  const c = new Cursor(bytes, start, end);
  const py_tree = parts.py_tree;
  const py_frames = parts.py_frames;
  const cache = new Float64Array(POINTER_CACHE_SIZE);
  const threads = new Map<number, StreamThread>();
  let thread: StreamThread | undefined;
  const memo_parent = new Float64Array(PUSH_MEMO_MASK + 1).fill(-1);
  const memo_code = new Float64Array(PUSH_MEMO_MASK + 1);
  const memo_tag = new Float64Array(PUSH_MEMO_MASK + 1);
  const memo_node = new Uint32Array(PUSH_MEMO_MASK + 1);
  // memray's DeltaEncodedFields: one cache per field, shared by every record kind that uses it.
  let last_data_pointer = 0;
  let last_native_frame_id = 0;
  let last_ip = 0;
  let last_firstlineno = 0;
  let seq = parts.seq;
  let modules: ModuleMap[] | undefined;
  let finished = false;
  // Every record takes at least one byte: the record count is bounded by the byte count.
  const record_bound = end - start + 1;
  for (let n = 0; n < record_bound && c.pos < end; n++) {
    const at = c.pos;
    const token = bytes[c.pos++];
    if (token & 0x80) {
      // ALLOCATION 1ppppaaa: [address delta on miss] [allocator if aaa=0] [native id] [size]
      const slot = (token >> 3) & 15;
      let address: number;
      let pointer = last_data_pointer;
      if (slot === POINTER_CACHE_MISS) {
        pointer += c.svarint();
        address = pointer * 8;
      } else {
        address = cache[slot];
      }
      const allocator = (token & 7) !== 0 ? token & 7 : c.u8();
      const simple_free = allocator === MEMRAY_FREE || allocator === MEMRAY_PYMALLOC_FREE;
      let native_id = last_native_frame_id;
      if (native_traces && !simple_free) native_id += c.svarint();
      const size = simple_free ? 0 : c.varint();
      if (c.pos > end) break;
      const kind = KIND_OF_MEMRAY_ALLOCATOR[allocator];
      if (kind === 0) fail(`unknown memray allocator ${allocator}`, at);
      if (thread === undefined) fail("allocation before any CONTEXT_SWITCH", at);
      if (slot === POINTER_CACHE_MISS) {
        last_data_pointer = pointer;
        cache.copyWithin(1, 0, POINTER_CACHE_SIZE - 1);
        cache[0] = address;
      }
      last_native_frame_id = native_id;
      seq++;
      if (simple_free) {
        events.push(seq, kind, address, 0, thread!.tid, 0, 0);
      } else if (allocator === MEMRAY_MUNMAP) {
        events.push(seq, REC_MUNMAP, address, size, thread!.tid, 0, 0);
      } else {
        if (native_id < 0 || native_id >= parts.native_node_count) {
          fail(`allocation uses native frame ${native_id} before it is defined`, at);
        }
        const py = thread!.py;
        events.push(
          seq,
          kind,
          address,
          size,
          thread!.tid,
          py[py.length - 1],
          parts.native_nodes[native_id],
        );
      }
    } else if (token & 0x40) {
      // FRAME_PUSH 01uuuuue: varint code object id, signed varint instruction offset.
      const code_id = c.varint();
      const offset = c.svarint();
      if (c.pos > end) break;
      if (thread === undefined) fail("FRAME_PUSH before any CONTEXT_SWITCH", at);
      const py = thread!.py;
      const parent = py[py.length - 1];
      // A direct-mapped memo in front of the two hash maps: loops push the same frames again
      // and again (memray re-pushes a frame whenever its line changes).
      const tag = offset * 2 + (token & 1);
      const h = (Math.imul(parent, 0x9e3779b1) + Math.imul(code_id, 0x85ebca6b) + tag) &
        PUSH_MEMO_MASK;
      if (memo_parent[h] === parent && memo_code[h] === code_id && memo_tag[h] === tag) {
        py.push(memo_node[h]);
      } else {
        const node = py_tree.child(parent, py_frames.intern(code_id, token & 1, offset));
        memo_parent[h] = parent;
        memo_code[h] = code_id;
        memo_tag[h] = tag;
        memo_node[h] = node;
        py.push(node);
      }
    } else if (token & 0x20) {
      // OBJECT_RECORD 001ppppc: not part of our model, but it moves the shared caches.
      const slot = (token >> 1) & 15;
      let pointer = last_data_pointer;
      if (slot === POINTER_CACHE_MISS) pointer += c.svarint();
      let native_id = last_native_frame_id;
      if (native_traces && (token & 1) !== 0) native_id += c.svarint();
      if (c.pos > end) break;
      if (slot === POINTER_CACHE_MISS) {
        last_data_pointer = pointer;
        cache.copyWithin(1, 0, POINTER_CACHE_SIZE - 1);
        cache[0] = pointer * 8;
      }
      last_native_frame_id = native_id;
    } else if (token & 0x10) {
      // FRAME_POP 0001nnnn: pops n + 1 frames.
      const count = (token & 15) + 1;
      if (thread === undefined) fail("FRAME_POP before any CONTEXT_SWITCH", at);
      const py = thread!.py;
      if (count >= py.length) {
        fail(`thread ${thread!.tid} pops ${count} frames from a stack of ${py.length - 1}`, at);
      }
      py.length -= count;
    } else {
      switch (token) {
        case FILLER:
          break;
        case TRAILER:
          finished = true;
          break;
        case MEMORY_RECORD: {
          const rss_bytes = c.varint();
          const time_offset_ms = c.varint();
          if (c.pos > end) break;
          parts.rss.push({ seq: ++seq, time_offset_ms, rss_bytes });
          break;
        }
        case NATIVE_TRACE_INDEX: {
          const ip = last_ip + c.svarint();
          const parent = last_native_frame_id + c.svarint();
          if (c.pos > end) break;
          last_ip = ip;
          last_native_frame_id = parent;
          if (!parts.addNativeNode(ip, parent)) {
            fail(`native frame's parent ${parent} is not defined`, at);
          }
          break;
        }
        case MEMORY_MAP_START:
          modules = [];
          parts.module_maps.push({
            seq: ++seq,
            generation: parts.module_maps.length + 1,
            modules,
          });
          break;
        case SEGMENT_HEADER:
          decodeSegmentHeader(c, modules, at, fail);
          break;
        case THREAD_RECORD: {
          const name = readCString(c);
          if (c.pos > end) break;
          if (thread === undefined) fail("THREAD_RECORD before any CONTEXT_SWITCH", at);
          parts.thread(thread!.tid).name = name;
          break;
        }
        case CONTEXT_SWITCH: {
          const tid = c.u64();
          if (c.pos > end) break;
          thread = threads.get(tid);
          if (thread === undefined) {
            thread = { tid, py: [0] };
            threads.set(tid, thread);
            parts.thread(tid);
          }
          break;
        }
        case CODE_OBJECT:
          last_firstlineno = decodeCodeObject(c, last_firstlineno, parts);
          break;
        default:
          fail(`unknown memray record type 0x${token.toString(16).padStart(2, "0")}`, at);
      }
      if (finished || c.pos > end) break;
    }
  }
  parts.seq = seq;
  // A stream that stops short of its trailer was cut off (a crash); memray reads it the same way.
  parts.cut_off = !finished;
}
