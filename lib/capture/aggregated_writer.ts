/**
 * Encodes an aggregated capture (docs/capture-format.md, "Aggregated captures"): the original
 * header with `aggregated | packed` set, then sampler chunks holding HEAP_SAMPLE, THREAD_SELECT +
 * THREAD_NAME, MODULES, CODE and LOCATION records.
 */
import { ByteWriter } from "./byte_writer.ts";
import { CHUNK_HEADER_BYTES, FLAG_AGGREGATED, FLAG_PACKED, SAMPLER_THREAD_ID } from "./header.ts";
import type { ModuleMapsRecord, ThreadInfo } from "./reader.ts";
import * as R from "./records.ts";

/** A sampler chunk is closed once its records pass this size (a u32 `used_bytes` must hold it). */
export const AGGREGATED_CHUNK_LIMIT_BYTES = 64 * 1024 * 1024;

/** What an aggregated capture holds besides its header. */
export interface AggregatedContent {
  heap_samples: R.HeapSample[];
  threads: Iterable<ThreadInfo>;
  module_maps: ModuleMapsRecord[];
  codes: R.CodeObject[];
  locations: R.AggregatedLocation[];
}

interface SamplerChunk {
  first_seq: number;
  body: Uint8Array;
}

/** Splits records into sampler chunks at record boundaries. */
class ChunkedRecords {
  readonly chunks: SamplerChunk[] = [];
  #w = new ByteWriter(1 << 16);
  #first_seq = 0;
  /** The decoder's running seq after the last record (MODULES records carry seq deltas). */
  seq = 0;

  constructor(readonly limit_bytes: number) {}

  /** Appends one record written by `encode`; moves it to a fresh chunk if this one is full. */
  record(encode: (w: ByteWriter) => void): void {
    const start = this.#w.length;
    const seq_before = this.seq;
    encode(this.#w);
    if (this.#w.length <= this.limit_bytes || start === 0) return;
    // The record's seq delta was relative to `seq_before`, which the new chunk starts at.
    const record = this.#w.view().slice(start);
    this.#w.length = start;
    this.#close(seq_before);
    this.#w = new ByteWriter(Math.max(1 << 16, record.length));
    for (const b of record) this.#w.u8(b);
  }

  #close(next_first_seq: number): void {
    if (this.#w.length > 0) {
      this.chunks.push({ first_seq: this.#first_seq, body: this.#w.view().slice() });
    }
    this.#first_seq = next_first_seq;
  }

  finish(): SamplerChunk[] {
    this.#close(this.seq);
    return this.chunks;
  }
}

/** Returns the aggregated file: `header_bytes` (the full capture's header) patched, then chunks. */
export function encodeAggregated(
  header_bytes: Uint8Array,
  content: AggregatedContent,
  options: { chunk_limit_bytes?: number } = {},
): Uint8Array {
  const out = new ChunkedRecords(options.chunk_limit_bytes ?? AGGREGATED_CHUNK_LIMIT_BYTES);
  for (const s of content.heap_samples) {
    out.record((w) => {
      w.u8(R.REC_HEAP_SAMPLE);
      w.varint(s.time_offset_ms);
      w.varint(s.rss_bytes);
      w.varint(s.heap_bytes);
    });
  }
  for (const t of content.threads) {
    if (t.name === undefined) continue;
    const name = t.name;
    out.record((w) => {
      w.u8(R.REC_THREAD_SELECT);
      w.varint(t.thread_id);
      w.u8(R.REC_THREAD_NAME);
      w.string(name);
    });
  }
  for (const m of content.module_maps) {
    out.record((w) => {
      w.u8(R.REC_MODULES);
      w.varint(m.seq - out.seq);
      out.seq = m.seq;
      w.varint(m.generation);
      w.varint(m.modules.length);
      for (const mod of m.modules) {
        w.string(mod.path);
        w.varint(mod.load_base);
        w.bytes(mod.build_id);
        w.varint(mod.segments.length);
        for (const s of mod.segments) {
          w.varint(s.vaddr);
          w.varint(s.memsz);
        }
      }
    });
  }
  for (const c of content.codes) {
    out.record((w) => {
      w.u8(R.REC_CODE);
      w.varint(c.code_id);
      w.varint(c.first_line);
      w.string(c.name);
      w.string(c.qualname);
      w.string(c.filename);
      w.bytes(c.linetable);
    });
  }
  for (const l of content.locations) out.record((w) => writeLocation(w, l));
  const chunks = out.finish();
  let total = header_bytes.length;
  for (const c of chunks) total += CHUNK_HEADER_BYTES + c.body.length;
  const file = new Uint8Array(total);
  file.set(header_bytes);
  const view = new DataView(file.buffer);
  view.setUint32(16, view.getUint32(16, true) | FLAG_AGGREGATED | FLAG_PACKED, true);
  view.setUint32(20, 0, true); // chunk_size_bytes: 0 when packed.
  let at = header_bytes.length;
  chunks.forEach((c, index) => {
    view.setUint32(at, c.body.length, true);
    view.setUint32(at + 4, SAMPLER_THREAD_ID, true);
    view.setBigUint64(at + 8, BigInt(c.first_seq), true);
    view.setUint32(at + 16, index, true);
    view.setUint32(at + 20, 0, true);
    file.set(c.body, at + CHUNK_HEADER_BYTES);
    at += CHUNK_HEADER_BYTES + c.body.length;
  });
  return file;
}

function writeLocation(w: ByteWriter, l: R.AggregatedLocation): void {
  w.u8(R.REC_LOCATION);
  w.varint(l.thread_id);
  w.u8(l.allocator);
  const py = l.python_frames;
  w.varint(py.length / 3);
  for (let i = 0; i < py.length; i += 3) {
    w.varint(py[i] * 2 + py[i + 1]);
    w.svarint(py[i + 2]);
  }
  w.varint(l.native_ips.length);
  for (const ip of l.native_ips) w.varint(ip);
  w.varint(l.peak_count);
  w.varint(l.peak_bytes);
  w.varint(l.leaked_count);
  w.varint(l.leaked_bytes);
}
