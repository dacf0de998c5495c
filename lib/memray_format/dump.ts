/**
 * `memray parse` for memray 1.20 captures: every record as one line of text, in file order, in
 * the exact format of memray's `RecordReader::dumpAllRecords` (reference §3.8), so the output can
 * be compared line for line with memray's own.
 */
import { Cursor } from "../capture/cursor.ts";
import { MEMRAY_ALLOCATOR_NAMES, MEMRAY_FREE, MEMRAY_PYMALLOC_FREE } from "./allocators.ts";
import { FILE_FORMAT_AGGREGATED, MemrayHeader, parseMemrayHeader } from "./header.ts";
import { dataEnd } from "./reader.ts";
import { readCodeObject, readCString } from "./shared_records.ts";

/**
 * memray's `parse` names of the Python allocator. Measured on 1.20: pymalloc, pymalloc_debug and
 * malloc all print "pymalloc", other prints "other"; the mimalloc names are not measured (no
 * 3.13 interpreter with memray here) and follow memray's metadata names.
 */
const PARSE_ALLOCATOR_NAMES: Record<string, string> = {
  pymalloc: "pymalloc",
  pymalloc_debug: "pymalloc",
  malloc: "pymalloc",
  other: "other",
  mimalloc: "mimalloc",
  mimalloc_debug: "mimalloc debug",
};

/**
 * Receives the dump: whole lines, and (`end_of_line` false) the record name memray prints before
 * finding its record cut short, which ends its output without a newline.
 */
export type DumpLine = (text: string, end_of_line?: boolean) => void;

/** C's `%p`: "(nil)" for 0, else lower-case hex with "0x". */
function pointer(n: number): string {
  return n === 0 ? "(nil)" : `0x${n.toString(16)}`;
}

function allocatorName(value: number): string {
  const name = MEMRAY_ALLOCATOR_NAMES[value];
  return name ? name.toLowerCase() : `<unknown allocator ${value}>`;
}

/** The HEADER line. */
export function memrayHeaderLine(h: MemrayHeader): string {
  return [
    "HEADER magic=memray",
    `version=${h.version}`,
    `python_version=${h.python_version.toString(16).padStart(8, "0")}`,
    `native_traces=${h.native_traces}`,
    `file_format=${
      h.file_format === FILE_FORMAT_AGGREGATED ? "AGGREGATED_ALLOCATIONS" : "ALL_ALLOCATIONS"
    }`,
    `n_allocations=${h.n_allocations}`,
    `n_frames=${h.n_frames}`,
    `start_time=${h.start_time_ms}`,
    `end_time=${h.end_time_ms}`,
    `pid=${h.pid}`,
    `main_tid=${h.main_tid}`,
    `skipped_frames_on_main_tid=${h.skipped_frames_on_main_tid}`,
    `command_line=${h.command_line}`,
    `python_allocator=${PARSE_ALLOCATOR_NAMES[h.python_allocator] ?? "other"}`,
    `trace_python_allocators=${h.trace_python_allocators}`,
    `track_object_lifetimes=${h.track_object_lifetimes}`,
    `libdest=${h.libdest}`,
    `site_packages=[${h.site_packages.join(", ")}]`,
    `sys.path=[${h.sys_path.join(", ")}]`,
  ].join(" ");
}

/**
 * Calls `line` for the header and every record of a memray capture (`bytes` already
 * decompressed). As memray, the dump stops at the end of the data, at a record cut short (a
 * crash: its name and a space, no newline) and after an unknown record type
 * (`UNKNOWN RECORD TYPE n`).
 */
export function dumpMemrayCapture(
  bytes: Uint8Array,
  compressed: boolean,
  path: string,
  line: DumpLine,
): void {
  const h = parseMemrayHeader(bytes, path);
  line(memrayHeaderLine(h));
  const end = compressed ? bytes.length : dataEnd(bytes);
  const c = new Cursor(bytes, h.size_bytes, end);
  if (h.file_format === FILE_FORMAT_AGGREGATED) dumpAggregated(c, h, line);
  else dumpStream(c, h, line);
}

const POINTER_CACHE_SIZE = 15;
const POINTER_CACHE_MISS = 15;

/** The records of an ALL_ALLOCATIONS stream (reference §3.3). */
function dumpStream(c: Cursor, h: MemrayHeader, line: DumpLine): void {
  const bytes = c.buf;
  const end = c.end;
  const cache = new Float64Array(POINTER_CACHE_SIZE);
  let last_data_pointer = 0;
  const d: Deltas = { last_ip: 0, last_native_frame_id: 0, last_firstlineno: 0 };
  // Every record takes at least one byte: the record count is bounded by the byte count.
  const record_bound = end - c.pos + 1;
  for (let n = 0; n < record_bound && c.pos < end; n++) {
    const token = bytes[c.pos++];
    let text: string;
    if (token & 0x80) {
      const slot = (token >> 3) & 15;
      let address: number;
      let pointer_value = last_data_pointer;
      if (slot === POINTER_CACHE_MISS) {
        pointer_value += c.svarint();
        address = pointer_value * 8;
      } else {
        address = cache[slot];
      }
      const allocator = (token & 7) !== 0 ? token & 7 : c.u8();
      const simple_free = allocator === MEMRAY_FREE || allocator === MEMRAY_PYMALLOC_FREE;
      let native_id = d.last_native_frame_id;
      if (h.native_traces && !simple_free) native_id += c.svarint();
      const size = simple_free ? 0 : c.varint();
      if (c.pos > end) return line("ALLOCATION ", false);
      if (slot === POINTER_CACHE_MISS) {
        last_data_pointer = pointer_value;
        cache.copyWithin(1, 0, POINTER_CACHE_SIZE - 1);
        cache[0] = address;
      }
      d.last_native_frame_id = native_id;
      text = `ALLOCATION address=${pointer(address)} size=${size} allocator=${
        allocatorName(allocator)
      } native_frame_id=${h.native_traces && !simple_free ? native_id : 0}`;
    } else if (token & 0x40) {
      const code_id = c.varint();
      const offset = c.svarint();
      if (c.pos > end) return line("FRAME_PUSH ", false);
      text = `FRAME_PUSH code_object_id=${code_id} instruction_offset=${offset} ` +
        `is_entry_frame=${token & 1}`;
    } else if (token & 0x20) {
      // OBJECT_RECORD (track_object_lifetimes, Python >= 3.13.3 only): not measured against
      // memray here; the fields are printed like an ALLOCATION's.
      const slot = (token >> 1) & 15;
      let pointer_value = last_data_pointer;
      let address = cache[slot];
      if (slot === POINTER_CACHE_MISS) {
        pointer_value += c.svarint();
        address = pointer_value * 8;
      }
      const created = token & 1;
      let native_id = d.last_native_frame_id;
      if (h.native_traces && created) native_id += c.svarint();
      if (c.pos > end) return line("OBJECT_RECORD ", false);
      if (slot === POINTER_CACHE_MISS) {
        last_data_pointer = pointer_value;
        cache.copyWithin(1, 0, POINTER_CACHE_SIZE - 1);
        cache[0] = address;
      }
      d.last_native_frame_id = native_id;
      text = `OBJECT_RECORD address=${pointer(address)} is_created=${created} ` +
        `native_frame_id=${h.native_traces && created ? native_id : 0}`;
    } else if (token & 0x10) {
      text = `FRAME_POP count=${(token & 15) + 1}`;
    } else {
      switch (token) {
        case 0: // FILLER
          continue;
        case 1:
          line("TRAILER");
          return;
        case 2: {
          const rss = c.varint();
          const offset_ms = c.varint();
          if (c.pos > end) return line("MEMORY_RECORD ", false);
          text = `MEMORY_RECORD time=${h.start_time_ms + offset_ms} memory=${rss}`;
          break;
        }
        default: {
          const r = dumpShared(token, c, d, STREAM_NAMES);
          if (r === undefined) return line(`UNKNOWN RECORD TYPE ${token}`);
          if (r.cut) return line(r.text, false);
          text = r.text;
        }
      }
    }
    line(text);
  }
}

function segmentHeader(c: Cursor): string | undefined {
  const filename = readCString(c);
  const count = c.varint();
  const addr = c.u64();
  if (c.pos > c.end) return undefined;
  return `SEGMENT_HEADER filename=${filename} num_segments=${count} addr=${pointer(addr)}`;
}

function segment(c: Cursor): string | undefined {
  const vaddr = c.u64();
  const memsz = c.varint();
  if (c.pos > c.end) return undefined;
  return `SEGMENT ${pointer(vaddr)} ${memsz.toString(16)}`;
}

function codeObject(c: Cursor, d: Deltas): string | undefined {
  const r = readCodeObject(c, d.last_firstlineno);
  if (r === undefined) return undefined;
  d.last_firstlineno = r.first_line;
  return `CODE_OBJECT code_id=${r.code_id} function_name=${r.name} filename=${r.filename} ` +
    `firstlineno=${r.first_line} linetable_size=${r.length}`;
}

/** The delta-encoded fields the record kinds share (memray's DeltaEncodedFields). */
interface Deltas {
  last_ip: number;
  last_native_frame_id: number;
  last_firstlineno: number;
}

/** The names each format gives the record kinds it shares with the other. */
interface SharedNames {
  native_frame: string;
  thread: string;
}

const STREAM_NAMES: SharedNames = { native_frame: "NATIVE_FRAME_ID", thread: "THREAD" };
const AGGREGATED_NAMES: SharedNames = {
  native_frame: "NATIVE_TRACE_INDEX",
  thread: "THREAD_RECORD",
};

/** A dumped record: its line, or (`cut`) the name memray prints before finding it cut short. */
interface Dumped {
  text: string;
  cut: boolean;
}

/**
 * Dumps one record of a kind both formats share (types 5-8, 10, 12 and 14, laid out alike);
 * undefined for any other type.
 */
function dumpShared(token: number, c: Cursor, d: Deltas, names: SharedNames): Dumped | undefined {
  const done = (text: string | undefined, name: string): Dumped =>
    text === undefined ? { text: `${name} `, cut: true } : { text, cut: false };
  switch (token) {
    case 5: {
      const ip = d.last_ip + c.svarint();
      const parent = d.last_native_frame_id + c.svarint();
      if (c.pos > c.end) return done(undefined, names.native_frame);
      d.last_ip = ip;
      d.last_native_frame_id = parent;
      return done(`${names.native_frame} ip=${pointer(ip)} index=${parent}`, names.native_frame);
    }
    case 6:
      return done("MEMORY_MAP_START", "MEMORY_MAP_START");
    case 7:
      return done(segmentHeader(c), "SEGMENT_HEADER");
    case 8:
      return done(segment(c), "SEGMENT");
    case 10: {
      const name = readCString(c);
      return done(c.pos > c.end ? undefined : `${names.thread} ${name}`, names.thread);
    }
    case 12: {
      const tid = c.u64();
      return done(c.pos > c.end ? undefined : `CONTEXT_SWITCH tid=${tid}`, "CONTEXT_SWITCH");
    }
    case 14:
      return done(codeObject(c, d), "CODE_OBJECT");
    default:
      return undefined;
  }
}

/** `AggregatedAllocation` and `MemorySnapshot` sizes (see aggregated.ts). */
const AGGREGATED_ALLOCATION_BYTES = 72;
const MEMORY_SNAPSHOT_BYTES = 24;

/** The records of an AGGREGATED_ALLOCATIONS file (reference §3.5). */
function dumpAggregated(c: Cursor, h: MemrayHeader, line: DumpLine): void {
  const bytes = c.buf;
  const end = c.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64At = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const d: Deltas = { last_ip: 0, last_native_frame_id: 0, last_firstlineno: 0 };
  const record_bound = end - c.pos + 1;
  for (let n = 0; n < record_bound && c.pos < end; n++) {
    const token = bytes[c.pos++];
    let text: string;
    switch (token) {
      case 1: {
        if (c.pos + MEMORY_SNAPSHOT_BYTES > end) return line("MEMORY_SNAPSHOT ", false);
        const p = c.pos;
        c.pos += MEMORY_SNAPSHOT_BYTES;
        text = `MEMORY_SNAPSHOT time=${u64At(p)} rss=${u64At(p + 8)} heap=${u64At(p + 16)}`;
        break;
      }
      case 2: {
        if (c.pos + AGGREGATED_ALLOCATION_BYTES > end) {
          return line("AGGREGATED_ALLOCATION ", false);
        }
        const p = c.pos;
        c.pos += AGGREGATED_ALLOCATION_BYTES;
        text = `AGGREGATED_ALLOCATION tid=${u64At(p)} allocator=${allocatorName(bytes[p + 8])} ` +
          `native_frame_id=${u64At(p + 16)} python_frame_id=${view.getUint32(p + 24, true)} ` +
          `native_segment_generation=${u64At(p + 32)} ` +
          `n_allocations_in_high_water_mark=${u64At(p + 40)} ` +
          `n_allocations_leaked=${u64At(p + 48)} bytes_in_high_water_mark=${u64At(p + 56)} ` +
          `bytes_leaked=${u64At(p + 64)}`;
        break;
      }
      case 3: {
        const frame_id = c.varint();
        const parent = c.varint();
        if (c.pos > end) return line("PYTHON_TRACE_INDEX ", false);
        text = `PYTHON_TRACE_INDEX frame_id=${frame_id} parent_index=${parent}`;
        break;
      }
      case 4: {
        const frame_id = c.varint();
        const code_id = c.varint();
        const offset = c.svarint();
        const is_entry = c.u8() !== 0 ? 1 : 0;
        if (c.pos > end) return line("PYTHON_FRAME_INDEX ", false);
        text = `PYTHON_FRAME_INDEX frame_id=${frame_id} code_object_id=${code_id} ` +
          `instruction_offset=${offset} is_entry_frame=${is_entry}`;
        break;
      }
      case 13: {
        // SURVIVING_OBJECT (track_object_lifetimes only): not measured against memray here.
        const address = c.varint() * 8;
        const native_id = h.native_traces ? c.varint() : 0;
        if (c.pos > end) return line("SURVIVING_OBJECT ", false);
        text = `SURVIVING_OBJECT address=${pointer(address)} native_frame_id=${native_id}`;
        break;
      }
      case 15:
        line("AGGREGATED_TRAILER");
        return;
      default: {
        const r = dumpShared(token, c, d, AGGREGATED_NAMES);
        if (r === undefined) return line(`UNKNOWN RECORD TYPE ${token}`);
        if (r.cut) return line(r.text, false);
        text = r.text;
      }
    }
    line(text);
  }
}
