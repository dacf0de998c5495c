/**
 * Walks the chunks of an uncompressed capture and decodes their records in file order, calling a
 * visitor with primitives (no object per event record), so the same walker serves the fast
 * columnar reader and the `parse` dump.
 */
import { CaptureError } from "./errors.ts";
import { Cursor, wrapAddress } from "./cursor.ts";
import { CaptureHeader, CHUNK_HEADER_BYTES } from "./header.ts";
import { PyTopCache } from "./py_top_cache.ts";
import * as R from "./records.ts";
import * as B from "./record_bodies.ts";

/** A chunk's header and where its records are. */
export interface ChunkInfo {
  offset: number;
  used_bytes: number;
  thread_id: number;
  first_seq: number;
  thread_chunk_index: number;
  /** True when the file ends inside this chunk's used bytes (a capture cut off by a crash). */
  cut_off: boolean;
  /** Bytes of complete records, known once the chunk is decoded (less than used when cut off). */
  complete_bytes: number;
}

/**
 * Receives records. Frame lists are passed in a scratch array that is reused: copy what you keep.
 * `frames` holds (code_id, is_entry, instr_offset) triples for PY_STACK, and ips for NATIVE_STACK.
 */
export interface RecordVisitor {
  chunk?(chunk: ChunkInfo): void;
  alloc(thread_id: number, seq: number, addr: number, size_bytes: number, allocator: number): void;
  /** `kind` is REC_FREE or REC_PYMALLOC_FREE. */
  free(thread_id: number, seq: number, addr: number, kind: number): void;
  munmap(thread_id: number, seq: number, addr: number, size_bytes: number): void;
  pyStack(thread_id: number, pops: number, pushes: number, frames: number[]): void;
  nativeStack(thread_id: number, pops: number, pushes: number, ips: number[]): void;
  code(code: R.CodeObject): void;
  threadName(thread_id: number, name: string): void;
  threadInfo(thread_id: number, os_tid: number, origin: number): void;
  rss(seq: number, time_offset_ms: number, rss_bytes: number): void;
  modules(seq: number, generation: number, modules: R.ModuleMap[]): void;
  threadSelect?(thread_id: number): void;
  heapSample?(time_offset_ms: number, rss_bytes: number, heap_bytes: number): void;
  location?(location: R.AggregatedLocation): void;
}

const ignore = () => {};

/** A visitor that ignores every record: spread it and override the records you want. */
export const NOOP_VISITOR: RecordVisitor = {
  alloc: ignore,
  free: ignore,
  munmap: ignore,
  pyStack: ignore,
  nativeStack: ignore,
  code: ignore,
  threadName: ignore,
  threadInfo: ignore,
  rss: ignore,
  modules: ignore,
};

const MAX_LIST = B.MAX_LIST;

/** Decodes every chunk of `bytes` (header already parsed) in file order. */
export function walkChunks(
  bytes: Uint8Array,
  header: CaptureHeader,
  path: string,
  visitor: RecordVisitor,
): void {
  const fail = (what: string): never => {
    throw new CaptureError(path, what);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const next_index = new Map<number, number>();
  let offset = header.header_size_bytes;
  const chunk_count_bound = bytes.length; // Every chunk takes at least one byte.
  for (let n = 0; n < chunk_count_bound; n++) {
    if (offset + CHUNK_HEADER_BYTES > bytes.length) break; // Partial chunk header: ignored.
    const used_bytes = view.getUint32(offset, true);
    const thread_id = view.getUint32(offset + 4, true);
    const first_seq = view.getUint32(offset + 8, true) +
      view.getUint32(offset + 12, true) * 2 ** 32;
    const thread_chunk_index = view.getUint32(offset + 16, true);
    const span = header.packed ? CHUNK_HEADER_BYTES + used_bytes : header.chunk_size_bytes;
    if (!header.packed && CHUNK_HEADER_BYTES + used_bytes > header.chunk_size_bytes) {
      fail(`chunk at offset ${offset} claims ${used_bytes} used bytes, more than fit`);
    }
    if (used_bytes === 0) {
      if (header.packed) fail(`packed capture holds an empty chunk at offset ${offset}`);
      offset += span;
      continue;
    }
    const records_start = offset + CHUNK_HEADER_BYTES;
    const cut_off = records_start + used_bytes > bytes.length;
    if (cut_off && header.packed) fail(`chunk at offset ${offset} is truncated`);
    const expected_index = next_index.get(thread_id) ?? 0;
    if (thread_chunk_index !== expected_index) {
      fail(
        `chunk ${thread_chunk_index} of thread ${thread_id} at offset ${offset} ` +
          `comes where chunk ${expected_index} belongs`,
      );
    }
    next_index.set(thread_id, expected_index + 1);
    const info: ChunkInfo = {
      offset,
      used_bytes,
      thread_id,
      first_seq,
      thread_chunk_index,
      cut_off,
      complete_bytes: 0,
    };
    visitor.chunk?.(info);
    const end = Math.min(records_start + used_bytes, bytes.length);
    const cursor = new Cursor(bytes, records_start, end);
    info.complete_bytes = decodeChunk(cursor, info, visitor, fail) - records_start;
    if (cut_off) break; // Nothing complete can follow a chunk the file ends in.
    offset += span;
  }
}

function decodeChunk(
  c: Cursor,
  info: ChunkInfo,
  v: RecordVisitor,
  fail: (what: string) => never,
): number {
  const tid = info.thread_id;
  let seq = info.first_seq;
  let ip = 0;
  // Most recent event addresses, most recent first; mru[0] is also the base of address deltas.
  const mru = new Float64Array(R.MRU_SLOTS);
  const frames: number[] = [];
  // Recent top Python frames as (code_id * 2 + is_entry, offset) pairs, most recent first.
  const top = new PyTopCache();
  const where = () => `record at offset ${c.pos} (thread ${tid})`;
  const record_bound = c.end - c.pos; // Every record takes at least one byte.
  for (let n = 0; n < record_bound && c.pos < c.end; n++) {
    const start = c.pos;
    const type = c.buf[c.pos++];
    // The record is decoded into locals first and delivered only once it is known to be whole.
    if (type >= R.REC_EVENT_BIT) {
      const slot = (type >> 3) & 0x0f;
      const kind = R.INLINE_KINDS[type & 7] || escapedKind(c, where, fail);
      const a = slot === R.MRU_MISS ? wrapAddress(mru[0] + B.addressDelta(c.varint())) : mru[slot];
      const has_size = kind <= R.REC_ALLOC_LAST || kind === R.REC_MUNMAP;
      const size = has_size ? c.varint() : 0;
      if (c.overran) return cutOff(info, start, fail);
      mru.copyWithin(1, 0, Math.min(slot, R.MRU_SLOTS - 1));
      mru[0] = a;
      seq += 1;
      if (kind <= R.REC_ALLOC_LAST) v.alloc(tid, seq, a, size, kind);
      else if (kind === R.REC_MUNMAP) v.munmap(tid, seq, a, size);
      else v.free(tid, seq, a, kind);
      continue;
    }
    if (type > R.REC_SEQ_SKIP && type <= R.REC_SEQ_SKIP_SHORT_LAST) {
      seq += type - R.REC_SEQ_SKIP;
      continue;
    }
    if (type <= R.REC_PY_TOP_HIT_LAST) {
      if (type >= top.len) fail(`${where()}: PY_TOP_HIT of empty top-cache slot ${type}`);
      top.hit(type);
      frames.length = 0;
      frames.push(Math.floor(top.ids[0] / 2), top.ids[0] % 2, top.offsets[0]);
      v.pyStack(tid, 1, 1, frames);
      continue;
    }
    switch (type) {
      case R.REC_SEQ_SKIP: {
        const skip = B.readVarintBody(c);
        if (skip === B.CUT_OFF) return cutOff(info, start, fail);
        seq += skip;
        break;
      }
      case R.REC_PY_STACK: {
        const pops = c.varint();
        const pushes = c.varint();
        if (pushes > MAX_LIST) fail(`${where()}: ${pushes} frames pushed`);
        frames.length = 0;
        let id = 0;
        let offset = 0;
        for (let i = 0; i < pushes && !c.overran; i++) {
          id = c.varint();
          offset = c.svarint();
          frames.push(Math.floor(id / 2), id % 2, offset);
        }
        if (c.overran) return cutOff(info, start, fail);
        if (pushes > 0) top.insert(id, offset);
        v.pyStack(tid, pops, pushes, frames);
        break;
      }
      case R.REC_PY_TOP_DELTA: {
        const delta = c.svarint();
        if (c.overran) return cutOff(info, start, fail);
        if (top.len === 0) fail(`${where()}: PY_TOP_DELTA with an empty top cache`);
        const id = top.ids[0];
        top.insert(id, top.offsets[0] + delta);
        frames.length = 0;
        frames.push(Math.floor(id / 2), id % 2, top.offsets[0]);
        v.pyStack(tid, 1, 1, frames);
        break;
      }
      case R.REC_NATIVE_STACK: {
        const pops = c.varint();
        const pushes = c.varint();
        if (pushes > MAX_LIST) fail(`${where()}: ${pushes} native frames pushed`);
        frames.length = 0;
        let x = ip;
        for (let i = 0; i < pushes && !c.overran; i++) {
          x = wrapAddress(x + c.svarint());
          frames.push(x);
        }
        if (c.overran) return cutOff(info, start, fail);
        ip = x;
        v.nativeStack(tid, pops, pushes, frames);
        break;
      }
      case R.REC_CODE: {
        const code = B.readCode(c);
        if (code === B.CUT_OFF) return cutOff(info, start, fail);
        if (code.code_id === 0) fail(`${where()}: code id 0`);
        v.code(code);
        break;
      }
      case R.REC_THREAD_NAME: {
        const name = B.readThreadName(c);
        if (name === B.CUT_OFF) return cutOff(info, start, fail);
        v.threadName(tid, name);
        break;
      }
      case R.REC_THREAD_INFO: {
        const body = B.readThreadInfo(c);
        if (body === B.CUT_OFF) return cutOff(info, start, fail);
        v.threadInfo(tid, body.os_tid, body.origin);
        break;
      }
      case R.REC_THREAD_SELECT: {
        const selected = B.readVarintBody(c);
        if (selected === B.CUT_OFF) return cutOff(info, start, fail);
        v.threadSelect?.(selected);
        break;
      }
      case R.REC_RSS: {
        const body = B.readRss(c);
        if (body === B.CUT_OFF) return cutOff(info, start, fail);
        seq += body.seq_delta;
        v.rss(seq, body.time_offset_ms, body.rss_bytes);
        break;
      }
      case R.REC_MODULES: {
        const body = B.readModules(c, (what) => fail(`${where()}: ${what}`));
        if (body === B.CUT_OFF) return cutOff(info, start, fail);
        seq += body.seq_delta;
        v.modules(seq, body.generation, body.modules);
        break;
      }
      case R.REC_HEAP_SAMPLE: {
        const body = B.readHeapSample(c);
        if (body === B.CUT_OFF) return cutOff(info, start, fail);
        v.heapSample?.(body.time_offset_ms, body.rss_bytes, body.heap_bytes);
        break;
      }
      case R.REC_LOCATION: {
        const thread_id = c.varint();
        const allocator = c.u8();
        const py_depth = c.varint();
        if (py_depth > MAX_LIST) fail(`${where()}: depth ${py_depth}`);
        const python_frames: number[] = [];
        for (let i = 0; i < py_depth && !c.overran; i++) {
          const id = c.varint();
          python_frames.push(Math.floor(id / 2), id % 2, c.svarint());
        }
        const native_depth = c.varint();
        if (native_depth > MAX_LIST) fail(`${where()}: depth ${native_depth}`);
        const native_ips: number[] = [];
        for (let i = 0; i < native_depth && !c.overran; i++) native_ips.push(c.varint());
        const peak_count = c.varint();
        const peak_bytes = c.varint();
        const leaked_count = c.varint();
        const leaked_bytes = c.varint();
        if (c.overran) return cutOff(info, start, fail);
        v.location?.({
          thread_id,
          allocator,
          python_frames,
          native_ips,
          peak_count,
          peak_bytes,
          leaked_count,
          leaked_bytes,
        });
        break;
      }
      default:
        fail(`unknown record type 0x${type.toString(16).padStart(2, "0")} at offset ${start}`);
    }
  }
  return c.pos;
}

/** The kind byte after an event byte with inline kind 0; any kind code but 0x0D-0x10. */
function escapedKind(c: Cursor, where: () => string, fail: (what: string) => never): number {
  const kind = c.u8();
  // Past the end, the record is cut off, not unknown: the caller sees the overrun.
  if (!B.isEventKind(kind) && !c.overran) {
    fail(`${where()}: unknown event kind 0x${kind.toString(16)}`);
  }
  return kind;
}

/** A record ran past the chunk's data: fine when the file was cut there, corrupt otherwise. */
function cutOff(info: ChunkInfo, start: number, fail: (what: string) => never): number {
  if (info.cut_off) return start;
  fail(`record at offset ${start} runs past the end of its chunk (thread ${info.thread_id})`);
}
