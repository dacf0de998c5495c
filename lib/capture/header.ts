/** The capture header (docs/capture-format.md, "Header"). */
import { CaptureError } from "./errors.ts";

/** "MEMRAYDN" */
export const CAPTURE_MAGIC = new Uint8Array([0x4d, 0x45, 0x4d, 0x52, 0x41, 0x59, 0x44, 0x4e]);
export const FORMAT_VERSION = 1;
export const FIXED_HEADER_BYTES = 72;
export const CHUNK_HEADER_BYTES = 24;
export const SAMPLER_THREAD_ID = 0xffffffff;

export const FLAG_NATIVE_TRACES = 1 << 0;
export const FLAG_TRACE_PYTHON_ALLOCATORS = 1 << 1;
export const FLAG_AGGREGATED = 1 << 2;
export const FLAG_PACKED = 1 << 3;
export const FLAG_FINISHED = 1 << 4;

/** Metadata keys the format defines; unknown keys are kept in `extra`. */
export interface CaptureMetadata {
  tool?: string;
  command_line?: string;
  argv?: string[];
  python_version?: string;
  python_executable?: string;
  python_allocator?: string;
  main_thread_id?: number;
  bootstrap_file?: string;
  libdest?: string;
  site_packages?: string[];
  sys_path?: string[];
  rss_interval_ms?: number;
  parent_pid?: number;
  follow_fork?: boolean;
  [key: string]: unknown;
}

/** The parsed header. */
export interface CaptureHeader {
  format_version: number;
  header_size_bytes: number;
  flags: number;
  native_traces: boolean;
  trace_python_allocators: boolean;
  aggregated: boolean;
  packed: boolean;
  finished: boolean;
  chunk_size_bytes: number;
  start_time_ms: number;
  end_time_ms: number;
  pid: number;
  python_hexversion: number;
  seq_end: number;
  metadata: CaptureMetadata;
}

/** Parses and checks the header of an uncompressed capture; `path` names it in errors. */
export function parseHeader(bytes: Uint8Array, path: string): CaptureHeader {
  const fail = (what: string): never => {
    throw new CaptureError(path, what);
  };
  if (bytes.length === 0) fail("file is empty");
  const magic_len = Math.min(bytes.length, CAPTURE_MAGIC.length);
  for (let i = 0; i < magic_len; i++) {
    if (bytes[i] !== CAPTURE_MAGIC[i]) fail("not a memray-deno capture (bad magic)");
  }
  if (bytes.length < FIXED_HEADER_BYTES) fail("header is truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const format_version = view.getUint32(8, true);
  if (format_version !== FORMAT_VERSION) {
    fail(`format version ${format_version} is not supported (this reader reads ${FORMAT_VERSION})`);
  }
  const header_size_bytes = view.getUint32(12, true);
  const flags = view.getUint32(16, true);
  const chunk_size_bytes = view.getUint32(20, true);
  const metadata_length = view.getUint32(64, true);
  const packed = (flags & FLAG_PACKED) !== 0;
  if (header_size_bytes % 4096 !== 0 || header_size_bytes < FIXED_HEADER_BYTES) {
    fail(`header size ${header_size_bytes} is not a positive multiple of 4096`);
  }
  if (FIXED_HEADER_BYTES + metadata_length > header_size_bytes) {
    fail(`metadata (${metadata_length} bytes) does not fit in the header`);
  }
  if (bytes.length < header_size_bytes) fail("header is truncated");
  if (packed && chunk_size_bytes !== 0) fail("packed capture has a nonzero chunk size");
  if (!packed && chunk_size_bytes <= CHUNK_HEADER_BYTES) {
    fail(`chunk size ${chunk_size_bytes} is too small`);
  }
  let metadata: CaptureMetadata = {};
  if (metadata_length > 0) {
    const text = new TextDecoder().decode(
      bytes.subarray(FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + metadata_length),
    );
    try {
      metadata = JSON.parse(text);
    } catch {
      fail("metadata is not valid JSON");
    }
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
      fail("metadata is not a JSON object");
    }
  }
  return {
    format_version,
    header_size_bytes,
    flags,
    native_traces: (flags & FLAG_NATIVE_TRACES) !== 0,
    trace_python_allocators: (flags & FLAG_TRACE_PYTHON_ALLOCATORS) !== 0,
    aggregated: (flags & FLAG_AGGREGATED) !== 0,
    packed,
    finished: (flags & FLAG_FINISHED) !== 0,
    chunk_size_bytes,
    start_time_ms: Number(view.getBigInt64(24, true)),
    end_time_ms: Number(view.getBigInt64(32, true)),
    pid: u64(40),
    python_hexversion: u64(48),
    seq_end: u64(56),
    metadata,
  };
}

/** The engine thread id of the thread that started tracking (metadata `main_thread_id`, else 1). */
export function mainThreadIdOf(header: CaptureHeader): number {
  const id = header.metadata.main_thread_id;
  return typeof id === "number" ? id : 1;
}
