/**
 * memray's allocator enum (`hooks.h::Allocator`, reference §3.3) mapped onto our record type bytes
 * by name (docs/capture-format.md, allocator table).
 */
import { ALLOCATOR_NAMES } from "../capture/records.ts";

/** memray's `AllocatorType` names by their enum value. */
export const MEMRAY_ALLOCATOR_NAMES: readonly string[] = [
  "",
  "PYMALLOC_FREE",
  "PYMALLOC_MALLOC",
  "PYMALLOC_CALLOC",
  "PYMALLOC_REALLOC",
  "FREE",
  "MALLOC",
  "REALLOC",
  "CALLOC",
  "POSIX_MEMALIGN",
  "ALIGNED_ALLOC",
  "MEMALIGN",
  "VALLOC",
  "PVALLOC",
  "MMAP",
  "MUNMAP",
];

/** memray enum value of FREE / PYMALLOC_FREE: "simple deallocators" carry no size or native id. */
export const MEMRAY_FREE = 5;
export const MEMRAY_PYMALLOC_FREE = 1;
export const MEMRAY_MUNMAP = 15;

/** Our record type byte for each memray enum value (0 = not an allocator). */
export const KIND_OF_MEMRAY_ALLOCATOR: Uint8Array = (() => {
  const by_name = new Map<string, number>();
  for (const [kind, name] of Object.entries(ALLOCATOR_NAMES)) by_name.set(name, Number(kind));
  const table = new Uint8Array(256);
  MEMRAY_ALLOCATOR_NAMES.forEach((name, value) => {
    if (name === "") return;
    const kind = by_name.get(name);
    if (kind === undefined) throw new Error(`memray allocator ${name} has no record type of ours`);
    table[value] = kind;
  });
  return table;
})();
