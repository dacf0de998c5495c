/**
 * A streaming pass over a capture's events in global seq order, for reports that fold events into
 * bounded state (stats, the peak snapshot) instead of keeping them all as {@link readCapture}
 * does. Each thread's chunks are decoded by a resumable cursor; the cursors are merged by seq
 * directly on the decoded bytes (a thread runs until its next event would pass another thread's),
 * and events go out in reused typed-array batches. The hot loop decodes event records inline: no
 * object, closure or visitor call per record. Memory: the capture's bytes plus the stacks, codes
 * and one batch.
 */
import { CaptureError } from "./errors.ts";
import { Cursor, wrapAddress } from "./cursor.ts";
import { CaptureHeader, CHUNK_HEADER_BYTES, mainThreadIdOf, SAMPLER_THREAD_ID } from "./header.ts";
import type { EventRows } from "./events.ts";
import { PairIndex } from "./pair_index.ts";
import { pythonStacksOf } from "./python_stacks.ts";
import { PyTopCache } from "./py_top_cache.ts";
import type { Capture, ModuleMapsRecord, RssSample, ThreadInfo } from "./reader.ts";
import * as R from "./records.ts";
import * as B from "./record_bodies.ts";
import { NativeFrameTable, PythonFrameTable, StackTree } from "./stack_tree.ts";

/**
 * One batch of events in seq order: rows `0..count` of the columns. The arrays are reused: read
 * them before returning.
 */
export interface EventBatch extends EventRows {
  count: number;
  /** Index (among all events of the capture, in seq order) of the batch's first event. */
  first_index: number;
}

/** Everything of a read capture but its events. */
export type CaptureInfo = Omit<Capture, "events">;

/** Options of {@link scanEvents}. */
export interface ScanOptions {
  /** Receives each batch; return false to stop the scan early. */
  onBatch: (batch: EventBatch) => boolean | void;
  /** Events per batch (default 4096: the batch stays in cache). */
  batch_events?: number;
  /** Called after every batch with the share of chunk bytes decoded so far (0..1). */
  onProgress?: (fraction: number) => void;
  /** Whether the bytes came LZ4-compressed (reported in the result). */
  compressed?: boolean;
}

/** Result of {@link scanEvents}. */
export interface ScanResult {
  capture: CaptureInfo;
  /** Events delivered (all of them unless the consumer stopped early). */
  event_count: number;
}

interface ChunkRef {
  records_start: number;
  end: number;
  first_seq: number;
  cut_off: boolean;
}

/** A resumable decoder of one thread's chunks. */
class ThreadCursor {
  chunk = -1;
  pos = 0;
  end = 0;
  seq = 0;
  ip = 0;
  last_seq = -1;
  /** Seq of the event record at `pos` once known; Infinity when the thread has no more. */
  next_seq = -Infinity;
  /** The address cache as a ring: slot k is `mru[RING[mru_head + k]]`. */
  mru = new Float64Array(R.MRU_SLOTS);
  mru_head = 0;
  py = new Int32Array(64);
  py_len = 1;
  /** The chunk's recent top Python frames (PY_TOP records); emptied at every chunk start. */
  py_top = new PyTopCache();
  native = new Int32Array(64);
  native_len = 1;
  constructor(readonly thread_id: number, readonly chunks: ChunkRef[]) {}
}

/** Shared decoding state of one scan. */
class ScanState implements EventRows {
  py_tree = new StackTree();
  py_frames = new PythonFrameTable();
  py_index = new PairIndex();
  native_tree = new StackTree();
  native_frames = new NativeFrameTable();
  native_index = new PairIndex();
  codes = new Map<number, R.CodeObject>();
  threads = new Map<number, ThreadInfo>();
  rss: RssSample[] = [];
  module_maps: ModuleMapsRecord[] = [];
  cut_off = false;
  done_bytes = 0;
  // The batch being filled.
  count = 0;
  kind: Uint8Array;
  addr: Float64Array;
  size: Float64Array;
  thread: Uint32Array;
  py_stack: Uint32Array;
  native_stack: Uint32Array;
  scratch = new Float64Array(256);

  constructor(readonly bytes: Uint8Array, readonly path: string, readonly capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.addr = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.thread = new Uint32Array(capacity);
    this.py_stack = new Uint32Array(capacity);
    this.native_stack = new Uint32Array(capacity);
  }

  fail(what: string): never {
    throw new CaptureError(this.path, what);
  }

  info(thread_id: number): ThreadInfo {
    let info = this.threads.get(thread_id);
    if (info === undefined) {
      info = { thread_id };
      this.threads.set(thread_id, info);
    }
    return info;
  }
}

/** Kind code of each inline kind 0-7 of an event byte (0: a kind byte follows). */
const INLINE = Uint8Array.from(R.INLINE_KINDS);
const TWO_32 = 4294967296;
// Locals for the hot loop (a namespace import's members are not constants to the compiler).
const ALLOC_LAST = R.REC_ALLOC_LAST;
const MUNMAP = R.REC_MUNMAP;
/** RING[i] = i mod 15 for i < 30: ring positions of the address cache without a division. */
const RING = Uint8Array.from({ length: 2 * R.MRU_SLOTS }, (_, i) => i % R.MRU_SLOTS);

/**
 * Scans the events of an uncompressed, non-aggregated capture of ours (header parsed) in seq
 * order. Throws {@link CaptureError} for what {@link readCaptureBytes} rejects.
 */
export function scanEvents(
  bytes: Uint8Array,
  header: CaptureHeader,
  path: string,
  options: ScanOptions,
): ScanResult {
  if (header.aggregated) throw new CaptureError(path, "aggregated capture holds no events");
  const st = new ScanState(bytes, path, options.batch_events ?? 4096);
  const cursors = chunkCursors(st, header);
  let total_bytes = 0;
  for (const t of cursors) for (const c of t.chunks) total_bytes += c.end - c.records_start;
  let delivered = 0;
  let stopped = false;
  const flush = (): void => {
    if (st.count === 0 || stopped) return;
    const batch: EventBatch = {
      count: st.count,
      first_index: delivered,
      kind: st.kind,
      addr: st.addr,
      size: st.size,
      thread: st.thread,
      py_stack: st.py_stack,
      native_stack: st.native_stack,
    };
    delivered += st.count;
    st.count = 0;
    if (options.onBatch(batch) === false) stopped = true;
    options.onProgress?.(total_bytes > 0 ? st.done_bytes / total_bytes : 1);
  };
  for (const t of cursors) advance(st, t, -Infinity);
  // Every round emits at least one event or ends a thread: bounded by events + threads.
  for (;;) {
    let best: ThreadCursor | undefined;
    let limit = Infinity;
    for (const t of cursors) {
      if (best === undefined || t.next_seq < best.next_seq) {
        if (best !== undefined) limit = Math.min(limit, best.next_seq);
        best = t;
      } else {
        limit = Math.min(limit, t.next_seq);
      }
    }
    if (best === undefined || best.next_seq === Infinity) break;
    // Equal seqs in two threads (a corrupt file) still make progress: one event at a time.
    advance(st, best, Math.max(limit, best.next_seq));
    if (st.count === st.capacity) flush();
    if (stopped) break;
  }
  flush();
  return {
    capture: captureInfo(st, header, path, options.compressed ?? false),
    event_count: delivered,
  };
}

/** Validates chunk headers in file order and groups the chunks by thread. */
function chunkCursors(st: ScanState, header: CaptureHeader): ThreadCursor[] {
  const bytes = st.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const by_thread = new Map<number, ChunkRef[]>();
  let offset = header.header_size_bytes;
  for (let n = 0; n < bytes.length; n++) {
    if (offset + CHUNK_HEADER_BYTES > bytes.length) break; // Partial chunk header: ignored.
    const used_bytes = view.getUint32(offset, true);
    const thread_id = view.getUint32(offset + 4, true);
    const first_seq = view.getUint32(offset + 8, true) + view.getUint32(offset + 12, true) * TWO_32;
    const thread_chunk_index = view.getUint32(offset + 16, true);
    const span = header.packed ? CHUNK_HEADER_BYTES + used_bytes : header.chunk_size_bytes;
    if (!header.packed && CHUNK_HEADER_BYTES + used_bytes > header.chunk_size_bytes) {
      st.fail(`chunk at offset ${offset} claims ${used_bytes} used bytes, more than fit`);
    }
    if (used_bytes === 0) {
      if (header.packed) st.fail(`packed capture holds an empty chunk at offset ${offset}`);
      offset += span;
      continue;
    }
    const records_start = offset + CHUNK_HEADER_BYTES;
    const cut_off = records_start + used_bytes > bytes.length;
    if (cut_off && header.packed) st.fail(`chunk at offset ${offset} is truncated`);
    let list = by_thread.get(thread_id);
    if (list === undefined) {
      list = [];
      by_thread.set(thread_id, list);
    }
    if (thread_chunk_index !== list.length) {
      st.fail(
        `chunk ${thread_chunk_index} of thread ${thread_id} at offset ${offset} ` +
          `comes where chunk ${list.length} belongs`,
      );
    }
    const end = Math.min(records_start + used_bytes, bytes.length);
    list.push({ records_start, end, first_seq, cut_off });
    if (cut_off) {
      st.cut_off = true;
      break; // Nothing complete can follow a chunk the file ends in.
    }
    offset += span;
  }
  const cursors: ThreadCursor[] = [];
  for (const [thread_id, chunks] of by_thread) {
    if (thread_id !== SAMPLER_THREAD_ID) st.info(thread_id);
    cursors.push(new ThreadCursor(thread_id, chunks));
  }
  return cursors;
}

/** Moves `t` to its next chunk, resetting the per-chunk state; false when it has none. */
function nextChunk(st: ScanState, t: ThreadCursor): boolean {
  if (t.chunk >= 0) {
    const c = t.chunks[t.chunk];
    st.done_bytes += c.end - c.records_start;
  }
  t.chunk++;
  if (t.chunk >= t.chunks.length) return false;
  const c = t.chunks[t.chunk];
  t.pos = c.records_start;
  t.end = c.end;
  t.seq = c.first_seq;
  t.ip = 0;
  t.mru.fill(0);
  t.mru_head = 0;
  t.py_top.reset();
  return true;
}

/** The position after a varint read by {@link varintAt}. */
let next_pos = 0;

/** Unsigned LEB128 at `pos` (exact up to 2^53); sets {@link next_pos}, past `end + 1` if bad. */
function varintAt(buf: Uint8Array, pos: number): number {
  let b = buf[pos++];
  if (b < 0x80) {
    next_pos = pos;
    return b;
  }
  let value = b & 0x7f;
  b = buf[pos++];
  if (b < 0x80) {
    next_pos = pos;
    return value | (b << 7);
  }
  value |= (b & 0x7f) << 7;
  let shift = 14;
  for (let n = 2; n < 10; n++) {
    b = buf[pos++];
    if (b === undefined) break;
    value += shift < 28 ? (b & 0x7f) << shift : (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      next_pos = pos;
      return value;
    }
    shift += 7;
  }
  next_pos = buf.length + 1; // Over-long or past the buffer: an overrun the caller sees.
  return 0;
}

/**
 * Decodes `t`'s records, appending events to the batch, until its next event's seq would pass
 * `limit`, the batch is full, or the thread has no more records.
 */
function advance(st: ScanState, t: ThreadCursor, limit: number): void {
  const buf = st.bytes;
  const mru = t.mru;
  const kinds = st.kind;
  const addrs = st.addr;
  const sizes = st.size;
  const threads = st.thread;
  const pys = st.py_stack;
  const natives = st.native_stack;
  const capacity = st.capacity;
  const tid = t.thread_id;
  let n = st.count;
  let pos = t.pos;
  let end = t.end;
  let seq = t.seq;
  let last = t.last_seq;
  let py_top = t.py[t.py_len - 1];
  let native_top = t.native[t.native_len - 1];
  let head = t.mru_head;
  const ring = RING;
  const inline = INLINE;
  if (t.chunk < 0) {
    if (!nextChunk(st, t)) {
      t.next_seq = Infinity;
      return;
    }
    pos = t.pos;
    end = t.end;
    seq = t.seq;
  }
  // Bounded: every iteration consumes a record or a chunk, or returns.
  for (;;) {
    if (pos >= end) {
      if (!nextChunk(st, t)) {
        t.next_seq = Infinity;
        break;
      }
      pos = t.pos;
      end = t.end;
      seq = t.seq;
      head = 0;
      continue;
    }
    const start = pos;
    const type = buf[pos++];
    if (type >= 0x80) {
      const s = seq + 1;
      if (s > limit || n === capacity) {
        pos = start;
        t.next_seq = s;
        break;
      }
      let kind = inline[type & 7];
      if (kind === 0) kind = escapedKind(st, t, buf, pos++, end);
      const slot = (type >> 3) & 0x0f;
      let a: number;
      if (slot === 15) {
        // A miss: zig-zag delta, inline LEB128 while it fits 28 bits (addresses near the last).
        let z = buf[pos++];
        if (z >= 0x80) {
          z &= 0x7f;
          let b = buf[pos++];
          z |= (b & 0x7f) << 7;
          if (b >= 0x80) {
            b = buf[pos++];
            z |= (b & 0x7f) << 14;
            if (b >= 0x80) {
              b = buf[pos++];
              z |= (b & 0x7f) << 21;
              if (b >= 0x80) {
                z = varintAt(buf, pos - 4);
                pos = next_pos;
              }
            }
          }
        }
        let d: number;
        if (z < 0x80000000) {
          const h = z >>> 1;
          d = h & 1 ? -((h + 1) / 2) : h / 2;
          if ((z & 1) === 0) d *= 16;
        } else {
          d = B.addressDelta(z);
        }
        a = mru[head] + d;
        if (a < 0) a += 2 ** 64;
        else if (a >= 2 ** 64) a -= 2 ** 64;
      } else {
        a = mru[ring[head + slot]];
      }
      let size = 0;
      if (kind <= ALLOC_LAST || kind === MUNMAP) {
        size = buf[pos++];
        if (size >= 0x80) {
          const b = buf[pos++];
          if (b < 0x80) size = (size & 0x7f) | (b << 7);
          else {
            size = varintAt(buf, pos - 2);
            pos = next_pos;
          }
        }
      }
      if (pos > end) {
        cutOff(st, t, start);
        pos = t.pos;
        end = t.end;
        continue;
      }
      // The cache is a ring: slot k lives at mru[ring[head + k]]. A miss drops slot 14 by
      // moving the head back onto it; a hit moves the slot's address to the front.
      if (slot === 15) {
        head = head === 0 ? 14 : head - 1;
      } else if (slot !== 0) {
        for (let j = slot; j > 0; j--) mru[ring[head + j]] = mru[ring[head + j - 1]];
      }
      mru[head] = a;
      if (s <= last) seqBackwards(st, tid, s, last);
      seq = s;
      last = s;
      kinds[n] = kind;
      addrs[n] = a;
      sizes[n] = size;
      threads[n] = tid;
      if (kind <= ALLOC_LAST) {
        pys[n] = py_top;
        natives[n] = native_top;
      } else {
        pys[n] = 0;
        natives[n] = 0;
      }
      n++;
      continue;
    }
    if (type > 0x60 && type <= 0x7f) {
      seq += type - 0x60;
      continue;
    }
    t.pos = start;
    t.seq = seq;
    t.mru_head = head;
    otherRecord(st, t, type);
    pos = t.pos;
    end = t.end;
    seq = t.seq;
    py_top = t.py[t.py_len - 1];
    native_top = t.native[t.native_len - 1];
  }
  st.count = n;
  t.pos = pos;
  t.seq = seq;
  t.last_seq = last;
  t.mru_head = head;
}

function seqBackwards(st: ScanState, tid: number, s: number, last: number): never {
  st.fail(`sequence numbers of thread ${tid} go backwards (${s} after ${last})`);
}

/** The kind byte after an event byte with inline kind 0; any kind code but 0x0D-0x10. */
function escapedKind(
  st: ScanState,
  t: ThreadCursor,
  buf: Uint8Array,
  pos: number,
  end: number,
): number {
  const kind = buf[pos] ?? 0;
  // Past the end, the record is cut off, not unknown: the caller sees the overrun.
  if (!B.isEventKind(kind) && pos < end) {
    st.fail(
      `record at offset ${pos + 1} (thread ${t.thread_id}): unknown event kind 0x${
        kind.toString(16)
      }`,
    );
  }
  return kind;
}

/**
 * A record ran past its chunk's data: when the file was cut there, the thread ends (nothing after
 * the cut chunk exists); otherwise the capture is corrupt.
 */
function cutOff(st: ScanState, t: ThreadCursor, start: number): void {
  const c = t.chunks[t.chunk];
  if (!c.cut_off) {
    st.fail(`record at offset ${start} runs past the end of its chunk (thread ${t.thread_id})`);
  }
  t.pos = c.end;
  t.end = c.end;
}

/** Decodes one non-event record at `t.pos` (cold path; stacks are the common case). */
function otherRecord(st: ScanState, t: ThreadCursor, type: number): void {
  const start = t.pos;
  const buf = st.bytes;
  const where = () => `record at offset ${start} (thread ${t.thread_id})`;
  const top = t.py_top;
  if (type <= R.REC_PY_TOP_HIT_LAST) {
    // PY_TOP_HIT, the common case with --trace-python-allocators: one byte, no body.
    if (type >= top.len) st.fail(`${where()}: PY_TOP_HIT of empty top-cache slot ${type}`);
    top.hit(type);
    st.scratch[0] = top.ids[0];
    st.scratch[1] = top.offsets[0];
    t.pos = start + 1;
    pushPython(st, t, 1, 1);
    return;
  }
  if (type === R.REC_PY_TOP_DELTA) {
    const z = varintAt(buf, start + 1);
    if (next_pos > t.end) return cutOff(st, t, start);
    if (top.len === 0) st.fail(`${where()}: PY_TOP_DELTA with an empty top cache`);
    top.insert(top.ids[0], top.offsets[0] + (z % 2 === 1 ? -(z + 1) / 2 : z / 2));
    st.scratch[0] = top.ids[0];
    st.scratch[1] = top.offsets[0];
    t.pos = next_pos;
    pushPython(st, t, 1, 1);
    return;
  }
  if (type === R.REC_PY_STACK || type === R.REC_NATIVE_STACK) {
    const pops = varintAt(buf, start + 1);
    const pushes = varintAt(buf, next_pos);
    if (pushes > B.MAX_LIST) st.fail(`${where()}: ${pushes} frames pushed`);
    if (st.scratch.length < 2 * pushes) st.scratch = new Float64Array(2 * pushes);
    const scratch = st.scratch;
    let p = next_pos;
    let ip = t.ip;
    for (let i = 0; i < pushes && p <= t.end; i++) {
      if (type === R.REC_PY_STACK) {
        scratch[2 * i] = varintAt(buf, p);
        const z = varintAt(buf, next_pos);
        scratch[2 * i + 1] = z % 2 === 1 ? -(z + 1) / 2 : z / 2;
      } else {
        const z = varintAt(buf, p);
        ip = wrapAddress(ip + (z % 2 === 1 ? -(z + 1) / 2 : z / 2));
        scratch[i] = ip;
      }
      p = next_pos;
    }
    if (p > t.end) return cutOff(st, t, start);
    t.pos = p;
    if (type === R.REC_PY_STACK && pushes > 0) {
      top.insert(scratch[2 * pushes - 2], scratch[2 * pushes - 1]);
    }
    if (type === R.REC_PY_STACK) pushPython(st, t, pops, pushes);
    else {
      t.ip = ip;
      pushNative(st, t, pops, pushes);
    }
    return;
  }
  const c = new Cursor(buf, start + 1, t.end);
  switch (type) {
    case R.REC_SEQ_SKIP: {
      const skip = B.readVarintBody(c);
      if (skip === B.CUT_OFF) return cutOff(st, t, start);
      t.seq += skip;
      break;
    }
    case R.REC_CODE: {
      const code = B.readCode(c);
      if (code === B.CUT_OFF) return cutOff(st, t, start);
      if (code.code_id === 0) st.fail(`${where()}: code id 0`);
      if (st.codes.has(code.code_id)) st.fail(`code id ${code.code_id} is defined twice`);
      st.codes.set(code.code_id, code);
      break;
    }
    case R.REC_THREAD_NAME: {
      const name = B.readThreadName(c);
      if (name === B.CUT_OFF) return cutOff(st, t, start);
      st.info(t.thread_id).name = name;
      break;
    }
    case R.REC_THREAD_INFO: {
      const body = B.readThreadInfo(c);
      if (body === B.CUT_OFF) return cutOff(st, t, start);
      const info = st.info(t.thread_id);
      info.os_tid = body.os_tid;
      info.origin = body.origin;
      break;
    }
    case R.REC_THREAD_SELECT: {
      if (B.readVarintBody(c) === B.CUT_OFF) return cutOff(st, t, start);
      break;
    }
    case R.REC_RSS: {
      const body = B.readRss(c);
      if (body === B.CUT_OFF) return cutOff(st, t, start);
      t.seq += body.seq_delta;
      st.rss.push({
        seq: t.seq,
        time_offset_ms: body.time_offset_ms,
        rss_bytes: body.rss_bytes,
      });
      break;
    }
    case R.REC_MODULES: {
      const body = B.readModules(c, (what) => st.fail(`${where()}: ${what}`));
      if (body === B.CUT_OFF) return cutOff(st, t, start);
      t.seq += body.seq_delta;
      st.module_maps.push({ seq: t.seq, generation: body.generation, modules: body.modules });
      break;
    }
    case R.REC_HEAP_SAMPLE: {
      if (B.readHeapSample(c) === B.CUT_OFF) return cutOff(st, t, start);
      break;
    }
    case R.REC_LOCATION:
      st.fail("capture holds LOCATION records but is not aggregated");
      break;
    default:
      st.fail(`unknown record type 0x${type.toString(16).padStart(2, "0")} at offset ${start}`);
  }
  t.pos = c.pos;
}

function pushPython(st: ScanState, t: ThreadCursor, pops: number, pushes: number): void {
  if (pops >= t.py_len) {
    st.fail(`thread ${t.thread_id} pops ${pops} Python frames from a stack of ${t.py_len - 1}`);
  }
  t.py_len -= pops;
  if (t.py_len + pushes > t.py.length) {
    const grown = new Int32Array(2 * (t.py_len + pushes));
    grown.set(t.py.subarray(0, t.py_len));
    t.py = grown;
  }
  const scratch = st.scratch;
  let node = t.py[t.py_len - 1];
  for (let i = 0; i < pushes; i++) {
    const id = scratch[2 * i];
    const offset = scratch[2 * i + 1];
    if (id < 2 ** 21 && offset > -(2 ** 31) && offset < 2 ** 31) {
      // One probe from (parent, frame as written) to the child: the frame table and the tree are
      // consulted only for a stack not seen before.
      const key = id * TWO_32 + (offset + 2 ** 31);
      let child = st.py_index.get(node, key);
      if (child < 0) {
        child = st.py_tree.child(node, st.py_frames.intern(Math.floor(id / 2), id % 2, offset));
        st.py_index.add(node, key, child);
      }
      node = child;
    } else {
      node = st.py_tree.child(node, st.py_frames.intern(Math.floor(id / 2), id % 2, offset));
    }
    t.py[t.py_len++] = node;
  }
}

function pushNative(st: ScanState, t: ThreadCursor, pops: number, pushes: number): void {
  if (pops >= t.native_len) {
    st.fail(
      `thread ${t.thread_id} pops ${pops} native frames from a stack of ${t.native_len - 1}`,
    );
  }
  t.native_len -= pops;
  if (t.native_len + pushes > t.native.length) {
    const grown = new Int32Array(2 * (t.native_len + pushes));
    grown.set(t.native.subarray(0, t.native_len));
    t.native = grown;
  }
  const scratch = st.scratch;
  let node = t.native[t.native_len - 1];
  for (let i = 0; i < pushes; i++) {
    const ip = scratch[i];
    if (ip < 2 ** 53) {
      let child = st.native_index.get(node, ip);
      if (child < 0) {
        child = st.native_tree.child(node, st.native_frames.intern(ip));
        st.native_index.add(node, ip, child);
      }
      node = child;
    } else {
      node = st.native_tree.child(node, st.native_frames.intern(ip));
    }
    t.native[t.native_len++] = node;
  }
}

function captureInfo(
  st: ScanState,
  header: CaptureHeader,
  path: string,
  compressed: boolean,
): CaptureInfo {
  const python = pythonStacksOf(header, {
    tree: st.py_tree,
    frames: st.py_frames,
    codes: st.codes,
  });
  return {
    path,
    header,
    compressed,
    cut_off: st.cut_off,
    codes: st.codes,
    threads: st.threads,
    rss: st.rss,
    module_maps: st.module_maps,
    python,
    native: { tree: st.native_tree, frames: st.native_frames },
    locations: [],
    heap_samples: [],
    main_thread_id: mainThreadIdOf(header),
  };
}
