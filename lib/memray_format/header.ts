/**
 * The header of a capture written by memray 1.20 (Bloomberg's), header version 13: fixed-width
 * fields in native (little-endian on x86-64/aarch64) byte order, strings NUL-terminated, no
 * padding between fields (reference §3.2).
 */
import { CaptureError } from "../capture/errors.ts";
import {
  CaptureHeader,
  CaptureMetadata,
  FLAG_AGGREGATED,
  FLAG_FINISHED,
  FLAG_NATIVE_TRACES,
  FLAG_PACKED,
  FLAG_TRACE_PYTHON_ALLOCATORS,
} from "../capture/header.ts";

/** `memray\0` */
export const MEMRAY_MAGIC = new Uint8Array([0x6d, 0x65, 0x6d, 0x72, 0x61, 0x79, 0x00]);
/** The only header version memray 1.20 reads and writes. */
export const MEMRAY_HEADER_VERSION = 13;
/** memray's `FileFormat`. */
export const FILE_FORMAT_ALL_ALLOCATIONS = 0;
export const FILE_FORMAT_AGGREGATED = 1;

/** memray's `PythonAllocatorType`, by the header byte. */
const PYTHON_ALLOCATORS: Record<number, string> = {
  1: "pymalloc",
  2: "pymalloc_debug",
  3: "malloc",
  4: "other",
  5: "mimalloc",
  6: "mimalloc_debug",
};

/** The header fields as memray stores them. */
export interface MemrayHeader {
  version: number;
  python_version: number;
  native_traces: boolean;
  file_format: number;
  /** Records written, frees included (0 when the header was not rewritten: a crash). */
  n_allocations: number;
  n_frames: number;
  start_time_ms: number;
  /** 0 when the header was not rewritten at the end (a crash). */
  end_time_ms: number;
  command_line: string;
  pid: number;
  main_tid: number;
  /** Outermost Python frames of the main thread that belong to memray's launcher. */
  skipped_frames_on_main_tid: number;
  python_allocator: string;
  trace_python_allocators: boolean;
  track_object_lifetimes: boolean;
  libdest: string;
  site_packages: string[];
  sys_path: string[];
  /** Where the records start. */
  size_bytes: number;
}

/** True when `bytes` (already decompressed) start with memray's magic. */
export function isMemrayCapture(bytes: Uint8Array): boolean {
  if (bytes.length < MEMRAY_MAGIC.length) return false;
  for (let i = 0; i < MEMRAY_MAGIC.length; i++) {
    if (bytes[i] !== MEMRAY_MAGIC[i]) return false;
  }
  return true;
}

/** Bound on the strings of `site_packages` / `sys_path`, so garbage cannot loop for ages. */
const MAX_PATH_ENTRIES = 1 << 16;

/** Parses memray's header; `path` names the file in errors. */
export function parseMemrayHeader(bytes: Uint8Array, path: string): MemrayHeader {
  const fail = (what: string): never => {
    throw new CaptureError(path, what);
  };
  if (!isMemrayCapture(bytes)) fail("not a memray capture (bad magic)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = MEMRAY_MAGIC.length;
  const need = (n: number) => {
    if (pos + n > bytes.length) fail("memray header is truncated");
  };
  const u8 = () => (need(1), bytes[pos++]);
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    pos += 8;
    return view.getUint32(pos - 8, true) + view.getUint32(pos - 4, true) * 2 ** 32;
  };
  const i64 = () => (need(8), pos += 8, Number(view.getBigInt64(pos - 8, true)));
  const decoder = new TextDecoder();
  const cstring = () => {
    const end = bytes.indexOf(0, pos);
    if (end < 0) fail("memray header is truncated");
    const s = decoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const cstringList = () => {
    const out: string[] = [];
    for (let n = 0; n < MAX_PATH_ENTRIES; n++) {
      const s = cstring();
      if (s === "") return out;
      out.push(s);
    }
    return fail("memray header holds too many paths");
  };
  const version = i32();
  if (version !== MEMRAY_HEADER_VERSION) {
    fail(
      `memray header version ${version} is not supported (this reader reads ${MEMRAY_HEADER_VERSION}, memray 1.20)`,
    );
  }
  const python_version = i32() >>> 0;
  const native_traces = u8() !== 0;
  const file_format = u8();
  if (file_format !== FILE_FORMAT_ALL_ALLOCATIONS && file_format !== FILE_FORMAT_AGGREGATED) {
    fail(`memray file format ${file_format} is unknown`);
  }
  const n_allocations = u64();
  const n_frames = u64();
  const start_time_ms = i64();
  const end_time_ms = i64();
  const command_line = cstring();
  const pid = i32();
  const main_tid = u64();
  const skipped_frames_on_main_tid = u64();
  const allocator_byte = u8();
  const trace_python_allocators = u8() !== 0;
  const track_object_lifetimes = u8() !== 0;
  const libdest = cstring();
  const site_packages = cstringList();
  const sys_path = cstringList();
  return {
    version,
    python_version,
    native_traces,
    file_format,
    n_allocations,
    n_frames,
    start_time_ms,
    end_time_ms,
    command_line,
    pid,
    main_tid,
    skipped_frames_on_main_tid,
    python_allocator: PYTHON_ALLOCATORS[allocator_byte] ?? "other",
    trace_python_allocators,
    track_object_lifetimes,
    libdest,
    site_packages,
    sys_path,
    size_bytes: pos,
  };
}

/**
 * Maps memray's header onto ours. `finished` is whether the stream ended with its trailer;
 * `seq_end` is the number of sequence numbers the reader handed out.
 */
export function toCaptureHeader(
  h: MemrayHeader,
  finished: boolean,
  seq_end: number,
): CaptureHeader {
  const aggregated = h.file_format === FILE_FORMAT_AGGREGATED;
  const flags = (h.native_traces ? FLAG_NATIVE_TRACES : 0) |
    (h.trace_python_allocators ? FLAG_TRACE_PYTHON_ALLOCATORS : 0) |
    (aggregated ? FLAG_AGGREGATED : 0) | FLAG_PACKED | (finished ? FLAG_FINISHED : 0);
  const metadata: CaptureMetadata = {
    tool: "memray 1.20",
    command_line: h.command_line,
    python_allocator: h.python_allocator,
    main_thread_id: h.main_tid,
    libdest: h.libdest,
    site_packages: h.site_packages,
    sys_path: h.sys_path,
    memray_header_version: h.version,
    memray_n_allocations: h.n_allocations,
    skipped_frames_on_main_tid: h.skipped_frames_on_main_tid,
    track_object_lifetimes: h.track_object_lifetimes,
  };
  return {
    format_version: h.version,
    header_size_bytes: h.size_bytes,
    flags,
    native_traces: h.native_traces,
    trace_python_allocators: h.trace_python_allocators,
    aggregated,
    packed: true,
    finished,
    chunk_size_bytes: 0,
    start_time_ms: h.start_time_ms,
    end_time_ms: h.end_time_ms,
    pid: h.pid,
    python_hexversion: h.python_version,
    seq_end,
    metadata,
  };
}
