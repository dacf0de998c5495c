/** Record type bytes, event kind codes and allocator names (docs/capture-format.md, "Records"). */

/** Event kind codes (an event's allocator): 0x01-0x0C allocators, 0x11-0x13 deallocators. */
export const REC_ALLOC_FIRST = 0x01;
export const REC_ALLOC_LAST = 0x0c;
export const REC_FREE = 0x11;
export const REC_MUNMAP = 0x12;
export const REC_PYMALLOC_FREE = 0x13;
export const REC_PYMALLOC_MALLOC = 0x0a;
export const REC_PYMALLOC_REALLOC = 0x0c;

/** Every type byte with the high bit set is an event: `1sssskkk` (slot, inline kind). */
export const REC_EVENT_BIT = 0x80;
/** Address-cache slots of an event byte; slot 15 means a miss (an address delta follows). */
export const MRU_SLOTS = 15;
export const MRU_MISS = 15;
/** SEQ_SKIP: 0x60 + varint skip, or 0x61-0x7F skipping 1-31 with no body. */
export const REC_SEQ_SKIP = 0x60;
export const REC_SEQ_SKIP_SHORT_LAST = 0x7f;
/** Kind code of each inline kind code 1-7 of an event byte (0: a kind byte follows). */
export const INLINE_KINDS: readonly number[] = [0, 0x01, 0x03, 0x11, 0x0a, 0x0b, 0x0c, 0x13];
export const REC_PY_STACK = 0x20;
/** PY_TOP_HIT: 0x00-0x0F, the top Python frame becomes the chunk's top-cache slot (type byte). */
export const REC_PY_TOP_HIT_LAST = 0x0f;
/** PY_TOP_DELTA: the top Python frame becomes top-cache slot 0 with an offset delta (svarint). */
export const REC_PY_TOP_DELTA = 0x10;
/** Slots of the per-chunk cache of recent top Python frames. */
export const PY_TOP_SLOTS = 16;
export const REC_NATIVE_STACK = 0x21;
export const REC_CODE = 0x30;
export const REC_THREAD_NAME = 0x31;
export const REC_THREAD_INFO = 0x32;
export const REC_THREAD_SELECT = 0x33;
export const REC_RSS = 0x40;
export const REC_MODULES = 0x41;
export const REC_HEAP_SAMPLE = 0x42;
export const REC_LOCATION = 0x50;

export const ALLOC_MMAP = 0x09;

/** memray's `AllocatorType` names, indexed by the record type byte. */
export const ALLOCATOR_NAMES: Record<number, string> = {
  0x01: "MALLOC",
  0x02: "CALLOC",
  0x03: "REALLOC",
  0x04: "POSIX_MEMALIGN",
  0x05: "ALIGNED_ALLOC",
  0x06: "MEMALIGN",
  0x07: "VALLOC",
  0x08: "PVALLOC",
  0x09: "MMAP",
  0x0a: "PYMALLOC_MALLOC",
  0x0b: "PYMALLOC_CALLOC",
  0x0c: "PYMALLOC_REALLOC",
  0x11: "FREE",
  0x12: "MUNMAP",
  0x13: "PYMALLOC_FREE",
};

/** True for the ALLOC record types 0x01-0x0C. */
export function isAllocation(kind: number): boolean {
  return kind >= REC_ALLOC_FIRST && kind <= REC_ALLOC_LAST;
}

/** A CODE record. */
export interface CodeObject {
  code_id: number;
  first_line: number;
  name: string;
  qualname: string;
  filename: string;
  linetable: Uint8Array;
}

/** One module of a MODULES record. */
export interface ModuleMap {
  path: string;
  load_base: number;
  build_id: Uint8Array;
  segments: { vaddr: number; memsz: number }[];
}

/** A LOCATION record of an aggregated capture. */
export interface AggregatedLocation {
  thread_id: number;
  allocator: number;
  /** (code_id, is_entry, instr_offset) triples, outermost first. */
  python_frames: number[];
  /** Instruction pointers, outermost first. */
  native_ips: number[];
  peak_count: number;
  peak_bytes: number;
  leaked_count: number;
  leaked_bytes: number;
}

/** A HEAP_SAMPLE record of an aggregated capture: an RSS sample with the heap at that point. */
export interface HeapSample {
  time_offset_ms: number;
  rss_bytes: number;
  heap_bytes: number;
}
