/** The per-chunk cache of recent top Python frames that PY_TOP records name (docs/capture-format.md). */
import * as R from "./records.ts";

/**
 * A chunk's cache of recent top Python frames (PY_TOP records), most recent first: frames as
 * (code_id * 2 + is_entry, instr_offset_bytes). Empty at every chunk start.
 */
export class PyTopCache {
  ids = new Float64Array(R.PY_TOP_SLOTS);
  offsets = new Float64Array(R.PY_TOP_SLOTS);
  len = 0;

  /** Empties the cache (a chunk start). */
  reset(): void {
    this.len = 0;
  }

  /** A frame enters slot 0; the others shift down and a full cache drops its last. */
  insert(id: number, offset: number): void {
    const kept = Math.min(this.len, R.PY_TOP_SLOTS - 1);
    this.ids.copyWithin(1, 0, kept);
    this.offsets.copyWithin(1, 0, kept);
    this.ids[0] = id;
    this.offsets[0] = offset;
    this.len = kept + 1;
  }

  /** Slot `slot` (< len) moves to slot 0; the slots before it shift down by one. */
  hit(slot: number): void {
    const id = this.ids[slot];
    const offset = this.offsets[slot];
    this.ids.copyWithin(1, 0, slot);
    this.offsets.copyWithin(1, 0, slot);
    this.ids[0] = id;
    this.offsets[0] = offset;
  }
}
