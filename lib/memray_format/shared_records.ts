/**
 * Record bodies both memray file formats (ALL_ALLOCATIONS and AGGREGATED_ALLOCATIONS) share
 * (reference §3.3, §3.5): strings, SEGMENT_HEADER with its SEGMENTs and CODE_OBJECT, read once
 * here for the two decoders and the `parse` dump.
 */
import { CaptureError } from "../capture/errors.ts";
import { Cursor } from "../capture/cursor.ts";
import { ModuleMap } from "../capture/records.ts";
import { MemrayParts } from "./parts.ts";

/** The SEGMENT record type, which follows its SEGMENT_HEADER. */
const SEGMENT = 8;

const decoder = new TextDecoder();

/** Throws the decoders' error for a record at file offset `at`. */
export type Fail = (what: string, at: number) => never;

/** The {@link Fail} of the capture at `path`. */
export function failIn(path: string): Fail {
  return (what: string, at: number): never => {
    throw new CaptureError(path, `${what} at offset ${at}`);
  };
}

/** Reads a NUL-terminated string; marks the cursor overrun when no NUL comes before `end`. */
export function readCString(c: Cursor): string {
  const nul = c.buf.subarray(0, c.end).indexOf(0, c.pos);
  if (nul < 0) {
    c.pos = c.end + 1;
    return "";
  }
  const s = decoder.decode(c.buf.subarray(c.pos, nul));
  c.pos = nul + 1;
  return s;
}

/** Reads a SEGMENT_HEADER body and its SEGMENT records; undefined when a SEGMENT is missing. */
export function readSegments(c: Cursor, end: number): ModuleMap | undefined {
  const path = readCString(c);
  const count = c.varint();
  const load_base = c.u64();
  const segments: { vaddr: number; memsz: number }[] = [];
  // Each SEGMENT takes at least 10 bytes: the count is bounded by what is left.
  const bound = Math.min(count, Math.max(0, end - c.pos));
  for (let i = 0; i < count; i++) {
    if (c.pos >= end || i > bound) {
      c.pos = end + 1;
      break;
    }
    if (c.u8() !== SEGMENT) return undefined;
    const vaddr = c.u64();
    const memsz = c.varint();
    segments.push({ vaddr, memsz });
  }
  return { path, load_base, build_id: new Uint8Array(0), segments };
}

/**
 * Decodes a SEGMENT_HEADER record (at file offset `at`) into the memory map `modules` the last
 * MEMORY_MAP_START began; a record cut short leaves the cursor past its end and adds nothing.
 */
export function decodeSegmentHeader(
  c: Cursor,
  modules: ModuleMap[] | undefined,
  at: number,
  fail: Fail,
): void {
  const module = readSegments(c, c.end);
  if (c.pos > c.end) return;
  if (module === undefined) fail("SEGMENT_HEADER is not followed by its SEGMENTs", at);
  if (modules === undefined) fail("SEGMENT_HEADER before MEMORY_MAP_START", at);
  modules!.push(module!);
}

/** The fields of a CODE_OBJECT record; its line table is `length` bytes from `table_start`. */
export interface CodeObjectRecord {
  code_id: number;
  name: string;
  filename: string;
  first_line: number;
  table_start: number;
  length: number;
}

/**
 * Reads a CODE_OBJECT body, whose first line is a delta from `last_firstlineno`; undefined when
 * the record is cut short by the cursor's end.
 */
export function readCodeObject(c: Cursor, last_firstlineno: number): CodeObjectRecord | undefined {
  const code_id = c.varint();
  const name = readCString(c);
  const filename = readCString(c);
  const first_line = last_firstlineno + c.svarint();
  const length = c.varint();
  const table_start = c.pos;
  c.pos += length;
  if (c.pos > c.end) return undefined;
  return { code_id, name, filename, first_line, table_start, length };
}

/**
 * Decodes a CODE_OBJECT record into `parts`; returns the delta base for the next record's first
 * line (unchanged when the record is cut short).
 */
export function decodeCodeObject(
  c: Cursor,
  last_firstlineno: number,
  parts: Pick<MemrayParts, "addCode">,
): number {
  const r = readCodeObject(c, last_firstlineno);
  if (r === undefined) return last_firstlineno;
  parts.addCode({
    code_id: r.code_id,
    first_line: r.first_line,
    name: r.name,
    qualname: r.name,
    filename: r.filename,
    linetable: c.buf.slice(r.table_start, r.table_start + r.length),
  });
  return r.first_line;
}
