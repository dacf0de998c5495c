/**
 * Decoding of the record bodies both capture readers share ({@link walkChunks} in chunks.ts and
 * the streaming `scanEvents` in event_scan.ts), so each format lives in one place
 * (docs/capture-format.md, "Records"). Each decoder reads the body after the type byte from a
 * {@link Cursor} and returns the decoded values, or {@link CUT_OFF} when the body runs past the
 * cursor's end; the reader decides whether that is a crash-cut file or corruption and phrases its
 * own errors.
 */
import { Cursor } from "./cursor.ts";
import * as R from "./records.ts";

/** Returned by a body decoder whose record runs past the end of its data. */
export const CUT_OFF: unique symbol = Symbol("cut off");
/** The type of {@link CUT_OFF}. */
export type CutOff = typeof CUT_OFF;

/** A bound on any list length in a record, so garbage cannot make a reader loop for ages. */
export const MAX_LIST = 1 << 24;

/** Decodes a CODE body; the line table is copied out of the capture's bytes. */
export function readCode(c: Cursor): R.CodeObject | CutOff {
  const code_id = c.varint();
  const first_line = c.varint();
  const name = c.string();
  const qualname = c.string();
  const filename = c.string();
  const linetable = c.bytes();
  if (c.overran) return CUT_OFF;
  return { code_id, first_line, name, qualname, filename, linetable: linetable.slice() };
}

/** Decodes a THREAD_NAME body: the thread's name. */
export function readThreadName(c: Cursor): string | CutOff {
  const name = c.string();
  return c.overran ? CUT_OFF : name;
}

/** The body of a THREAD_INFO record. */
export interface ThreadInfoBody {
  os_tid: number;
  origin: number;
}

/** Decodes a THREAD_INFO body. */
export function readThreadInfo(c: Cursor): ThreadInfoBody | CutOff {
  const os_tid = c.varint();
  const origin = c.u8();
  return c.overran ? CUT_OFF : { os_tid, origin };
}

/** Decodes a single-varint body (SEQ_SKIP's skip, THREAD_SELECT's thread id). */
export function readVarintBody(c: Cursor): number | CutOff {
  const value = c.varint();
  return c.overran ? CUT_OFF : value;
}

/** The body of an RSS record; `seq_delta` is added to the thread's seq. */
export interface RssBody {
  seq_delta: number;
  time_offset_ms: number;
  rss_bytes: number;
}

/** Decodes an RSS body. */
export function readRss(c: Cursor): RssBody | CutOff {
  const seq_delta = c.varint();
  const time_offset_ms = c.varint();
  const rss_bytes = c.varint();
  return c.overran ? CUT_OFF : { seq_delta, time_offset_ms, rss_bytes };
}

/** The body of a MODULES record; `seq_delta` is added to the thread's seq. */
export interface ModulesBody {
  seq_delta: number;
  generation: number;
  modules: R.ModuleMap[];
}

/**
 * Decodes a MODULES body. `tooLong` is called (and must throw) with "N modules" or "N segments"
 * when a list is longer than {@link MAX_LIST}, while the cursor is just past that length.
 */
export function readModules(c: Cursor, tooLong: (what: string) => never): ModulesBody | CutOff {
  const seq_delta = c.varint();
  const generation = c.varint();
  const count = c.varint();
  if (count > MAX_LIST) tooLong(`${count} modules`);
  const modules: R.ModuleMap[] = [];
  for (let i = 0; i < count && !c.overran; i++) {
    const path = c.string();
    const load_base = c.varint();
    const build_id = c.bytes().slice();
    const segment_count = c.varint();
    if (segment_count > MAX_LIST) tooLong(`${segment_count} segments`);
    const segments = [];
    for (let j = 0; j < segment_count && !c.overran; j++) {
      segments.push({ vaddr: c.varint(), memsz: c.varint() });
    }
    modules.push({ path, load_base, build_id, segments });
  }
  return c.overran ? CUT_OFF : { seq_delta, generation, modules };
}

/** Decodes a HEAP_SAMPLE body. */
export function readHeapSample(c: Cursor): R.HeapSample | CutOff {
  const time_offset_ms = c.varint();
  const rss_bytes = c.varint();
  const heap_bytes = c.varint();
  return c.overran ? CUT_OFF : { time_offset_ms, rss_bytes, heap_bytes };
}

/** True for the kind codes an event's escaped kind byte may hold: any but 0x0D-0x10. */
export function isEventKind(kind: number): boolean {
  return (kind >= R.REC_ALLOC_FIRST && kind <= R.REC_ALLOC_LAST) ||
    kind === R.REC_FREE || kind === R.REC_MUNMAP || kind === R.REC_PYMALLOC_FREE;
}

/**
 * Decodes a cache miss's address delta: `z` even is a 16-byte aligned delta (zig-zag of
 * delta / 16, shifted left once), odd any other delta (zig-zag shifted left once, plus 1).
 * Small deltas take 32-bit integer arithmetic; larger ones exact float arithmetic (to 2^53).
 */
export function addressDelta(z: number): number {
  if (z < 0x80000000) {
    const h = z >>> 1;
    const d = h & 1 ? -((h + 1) / 2) : h / 2;
    return z & 1 ? d : d * 16;
  }
  const aligned = z % 2 === 0;
  const h = Math.floor(z / 2);
  const d = h % 2 === 1 ? -(h + 1) / 2 : h / 2;
  return aligned ? d * 16 : d;
}
