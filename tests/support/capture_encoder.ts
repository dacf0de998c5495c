/**
 * A TypeScript capture *encoder* for tests: writes live-layout captures exactly as
 * docs/capture-format.md describes (per-thread chunks reserved in order of need, one global
 * sequence counter), so reader tests need no native engine.
 */
import * as R from "../../lib/capture/records.ts";
import {
  CAPTURE_MAGIC,
  CHUNK_HEADER_BYTES,
  FIXED_HEADER_BYTES,
  FLAG_FINISHED,
  SAMPLER_THREAD_ID,
} from "../../lib/capture/header.ts";

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

class Bytes {
  buf = new Uint8Array(256);
  len = 0;
  byte(b: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  varint(v: number): void {
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new Error(`varint ${v}`);
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  svarint(v: number): void {
    this.varint(zigzag(v));
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    for (const x of b) this.byte(x);
  }
  string(s: string): void {
    this.bytes(new TextEncoder().encode(s));
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A Python frame to push: code id, instruction offset in bytes, entry flag. */
export interface FakeFrame {
  code_id: number;
  instr_offset_bytes: number;
  is_entry?: boolean;
}

/** Options for {@link CaptureEncoder}. */
export interface EncoderOptions {
  chunk_size_bytes?: number;
  flags?: number;
  metadata?: Record<string, unknown>;
  python_hexversion?: number;
  start_time_ms?: number;
  end_time_ms?: number;
  pid?: number;
}

interface Chunk {
  thread_id: number;
  first_seq: number;
  thread_chunk_index: number;
  body: Bytes;
}

/** Writes records for one thread; reached through {@link CaptureEncoder.thread}. */
export class ThreadEncoder {
  #rec = new Bytes();
  #first_seq = 0;
  #seq = 0;
  /** Most recent event addresses, most recent first (docs/capture-format.md, "Event records"). */
  #mru: number[] = new Array(R.MRU_SLOTS).fill(0);
  #ip = 0;
  /** Recent top Python frames of the chunk as [code_id * 2 + is_entry, offset], most recent first. */
  #py_top: [number, number][] = [];
  #chunk_index = 0;
  #slot = -1;

  constructor(readonly owner: CaptureEncoder, readonly thread_id: number) {}

  #open(): void {
    if (this.#slot >= 0) return;
    this.#slot = this.owner.reserveSlot();
    this.#first_seq = this.owner.seq;
    this.#seq = this.#first_seq;
    this.#mru = new Array(R.MRU_SLOTS).fill(0);
    this.#ip = 0;
    this.#py_top = [];
  }

  #chunk(body: Bytes): Chunk {
    return {
      thread_id: this.thread_id,
      first_seq: this.#first_seq,
      thread_chunk_index: this.#chunk_index,
      body,
    };
  }

  /** Closes the current chunk; the next record opens a new one. */
  flush(): void {
    if (this.#slot < 0) return;
    this.#slot = -1;
    this.#rec = new Bytes();
    this.#chunk_index++;
  }

  /** Encodes one record against the chunk's state; re-encodes in a fresh chunk if it does not fit. */
  #write(
    encode: (
      b: Bytes,
    ) => { seq?: number; mru?: number[]; ip?: number; py_top?: [number, number][] },
  ): void {
    const limit = this.owner.chunk_size_bytes - CHUNK_HEADER_BYTES;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.#open();
      const b = new Bytes();
      const state = encode(b);
      const body = b.take();
      if (this.#rec.len + body.length > limit) {
        if (this.#rec.len === 0) throw new Error("record larger than a chunk");
        this.flush();
        continue;
      }
      for (const x of body) this.#rec.byte(x);
      if (state.seq !== undefined) this.#seq = state.seq;
      if (state.mru !== undefined) this.#mru = state.mru;
      if (state.ip !== undefined) this.#ip = state.ip;
      if (state.py_top !== undefined) this.#py_top = state.py_top;
      this.owner.publish(this.#slot, this.#chunk(this.#rec), this.#rec.len);
      return;
    }
  }

  #seqOf(seq?: number): number {
    const s = seq ?? this.owner.nextSeq();
    if (s <= this.#seq && this.#seq !== this.#first_seq) throw new Error("seq must increase");
    return s;
  }

  /** A record type byte and an explicit seq delta (RSS, MODULES). */
  #sampled(b: Bytes, type: number, seq?: number): number {
    const s = this.#seqOf(seq);
    b.byte(type);
    b.varint(s - this.#seq);
    return s;
  }

  /** An event: SEQ_SKIP if needed, event byte, kind byte, address delta on a miss, size. */
  #encodeEvent(kind: number, addr: number, size_bytes: number | undefined, seq?: number): number {
    let used = 0;
    this.#write((b) => {
      used = this.#seqOf(seq ?? (used || undefined));
      if (this.#rec.len === 0 && used <= this.#first_seq) {
        // A retry in a fresh chunk reuses a seq taken before the chunk opened: as the engine's
        // `seq_floor`, the chunk's base must lie below it.
        this.#first_seq = used - 1;
        this.#seq = used - 1;
      }
      const skip = used - this.#seq - 1;
      if (skip > 0 && skip <= R.REC_SEQ_SKIP_SHORT_LAST - R.REC_SEQ_SKIP) {
        b.byte(R.REC_SEQ_SKIP + skip);
      } else if (skip > 0) {
        b.byte(R.REC_SEQ_SKIP);
        b.varint(skip);
      }
      const mru = [...this.#mru];
      const found = mru.indexOf(addr);
      const slot = found < 0 ? R.MRU_MISS : found;
      const code = R.INLINE_KINDS.indexOf(kind);
      b.byte(R.REC_EVENT_BIT | (slot << 3) | Math.max(code, 0));
      if (code <= 0) b.byte(kind);
      if (slot === R.MRU_MISS) {
        const delta = addr - mru[0];
        if (delta % 16 === 0) b.varint(zigzag(delta / 16) * 2);
        else b.varint(zigzag(delta) * 2 + 1);
      }
      mru.splice(Math.min(slot, R.MRU_SLOTS - 1), 1);
      mru.unshift(addr);
      if (size_bytes !== undefined) b.varint(size_bytes);
      return { seq: used, mru };
    });
    return used;
  }

  /** ALLOC event; `allocator` is the kind code (0x01-0x0C). Returns the event's seq. */
  alloc(allocator: number, addr: number, size_bytes: number, seq?: number): number {
    return this.#encodeEvent(allocator, addr, size_bytes, seq);
  }

  /** FREE (0x11) or PYMALLOC_FREE (0x13). */
  free(addr: number, kind = R.REC_FREE, seq?: number): number {
    return this.#encodeEvent(kind, addr, undefined, seq);
  }

  munmap(addr: number, size_bytes: number, seq?: number): number {
    return this.#encodeEvent(R.REC_MUNMAP, addr, size_bytes, seq);
  }

  /**
   * Python stack diff: `pops` frames off the top, then `frames` pushed (outermost first). As the
   * engine, a diff replacing only the top frame is written as PY_TOP_HIT (a frame of the chunk's
   * top cache) or PY_TOP_DELTA (same code as the cache's slot 0) unless `compact` is false.
   */
  pyStack(pops: number, frames: FakeFrame[], options: { compact?: boolean } = {}): void {
    this.#write((b) => {
      const top = this.#py_top.map((e) => [...e] as [number, number]);
      const insert = (id: number, offset: number) => {
        top.unshift([id, offset]);
        top.length = Math.min(top.length, R.PY_TOP_SLOTS);
      };
      if (pops === 1 && frames.length === 1 && options.compact !== false) {
        const id = frames[0].code_id * 2 + (frames[0].is_entry ? 1 : 0);
        const offset = frames[0].instr_offset_bytes;
        const slot = top.findIndex(([i, o]) => i === id && o === offset);
        if (slot >= 0) {
          b.byte(slot); // PY_TOP_HIT
          top.unshift(...top.splice(slot, 1));
          return { py_top: top };
        }
        if (top.length > 0 && top[0][0] === id) {
          b.byte(R.REC_PY_TOP_DELTA);
          b.svarint(offset - top[0][1]);
          insert(id, offset);
          return { py_top: top };
        }
      }
      b.byte(R.REC_PY_STACK);
      b.varint(pops);
      b.varint(frames.length);
      for (const f of frames) {
        b.varint(f.code_id * 2 + (f.is_entry ? 1 : 0));
        b.svarint(f.instr_offset_bytes);
      }
      const last = frames[frames.length - 1];
      if (last) insert(last.code_id * 2 + (last.is_entry ? 1 : 0), last.instr_offset_bytes);
      return { py_top: top };
    });
  }

  nativeStack(pops: number, ips: number[]): void {
    this.#write((b) => {
      b.byte(R.REC_NATIVE_STACK);
      b.varint(pops);
      b.varint(ips.length);
      let ip = this.#ip;
      for (const x of ips) {
        b.svarint(x - ip);
        ip = x;
      }
      return { ip };
    });
  }

  code(code: Omit<R.CodeObject, "qualname"> & { qualname?: string }): void {
    this.#write((b) => {
      b.byte(R.REC_CODE);
      b.varint(code.code_id);
      b.varint(code.first_line);
      b.string(code.name);
      b.string(code.qualname ?? code.name);
      b.string(code.filename);
      b.bytes(code.linetable);
      return {};
    });
  }

  threadName(name: string): void {
    this.#write((b) => {
      b.byte(R.REC_THREAD_NAME);
      b.string(name);
      return {};
    });
  }

  threadInfo(os_tid: number, origin: number): void {
    this.#write((b) => {
      b.byte(R.REC_THREAD_INFO);
      b.varint(os_tid);
      b.byte(origin);
      return {};
    });
  }

  rss(time_offset_ms: number, rss_bytes: number): number {
    let used = 0;
    this.#write((b) => {
      used = this.#sampled(b, R.REC_RSS, used || undefined);
      b.varint(time_offset_ms);
      b.varint(rss_bytes);
      return { seq: used };
    });
    return used;
  }

  modules(generation: number, modules: R.ModuleMap[]): void {
    let used = 0;
    this.#write((b) => {
      used = this.#sampled(b, R.REC_MODULES, used || undefined);
      b.varint(generation);
      b.varint(modules.length);
      for (const m of modules) {
        b.string(m.path);
        b.varint(m.load_base);
        b.bytes(m.build_id);
        b.varint(m.segments.length);
        for (const s of m.segments) {
          b.varint(s.vaddr);
          b.varint(s.memsz);
        }
      }
      return { seq: used };
    });
  }
}

/** Builds a whole capture in memory. */
export class CaptureEncoder {
  readonly chunk_size_bytes: number;
  seq = 0;
  #slots: { chunk: Chunk; used: number }[] = [];
  #threads = new Map<number, ThreadEncoder>();

  constructor(readonly options: EncoderOptions = {}) {
    this.chunk_size_bytes = options.chunk_size_bytes ?? 64 * 1024;
  }

  /** The writer for engine thread `thread_id` (0xFFFFFFFF is the sampler). */
  thread(thread_id: number): ThreadEncoder {
    let t = this.#threads.get(thread_id);
    if (t === undefined) {
      t = new ThreadEncoder(this, thread_id);
      this.#threads.set(thread_id, t);
    }
    return t;
  }

  get sampler(): ThreadEncoder {
    return this.thread(SAMPLER_THREAD_ID);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Reserves the next chunk slot of the file; `empty` leaves it unwritten (used_bytes 0). */
  reserveSlot(): number {
    this.#slots.push({
      chunk: { thread_id: 0, first_seq: 0, thread_chunk_index: 0, body: new Bytes() },
      used: 0,
    });
    return this.#slots.length - 1;
  }

  publish(slot: number, chunk: Chunk, used: number): void {
    this.#slots[slot] = { chunk, used };
  }

  /** The live-layout file. `finished` sets the flag and end fields. */
  finish(options: { finished?: boolean } = {}): Uint8Array {
    const o = this.options;
    const finished = options.finished ?? true;
    const metadata = new TextEncoder().encode(JSON.stringify(o.metadata ?? {}));
    const header_size = Math.ceil((FIXED_HEADER_BYTES + metadata.length) / 4096) * 4096;
    const out = new Uint8Array(header_size + this.#slots.length * this.chunk_size_bytes);
    const view = new DataView(out.buffer);
    out.set(CAPTURE_MAGIC, 0);
    view.setUint32(8, 1, true);
    view.setUint32(12, header_size, true);
    view.setUint32(16, (o.flags ?? 0) | (finished ? FLAG_FINISHED : 0), true);
    view.setUint32(20, this.chunk_size_bytes, true);
    view.setBigInt64(24, BigInt(o.start_time_ms ?? 1_700_000_000_000), true);
    view.setBigInt64(32, BigInt(finished ? (o.end_time_ms ?? 1_700_000_001_000) : 0), true);
    view.setBigUint64(40, BigInt(o.pid ?? 4242), true);
    view.setBigUint64(48, BigInt(o.python_hexversion ?? 0x030b07f0), true);
    view.setBigUint64(56, BigInt(finished ? this.seq : 0), true);
    view.setUint32(64, metadata.length, true);
    out.set(metadata, FIXED_HEADER_BYTES);
    this.#slots.forEach(({ chunk, used }, i) => {
      const at = header_size + i * this.chunk_size_bytes;
      view.setUint32(at, used, true);
      view.setUint32(at + 4, chunk.thread_id, true);
      view.setBigUint64(at + 8, BigInt(chunk.first_seq), true);
      view.setUint32(at + 16, chunk.thread_chunk_index, true);
      out.set(chunk.body.buf.subarray(0, used), at + CHUNK_HEADER_BYTES);
    });
    return out;
  }
}
