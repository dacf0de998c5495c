/**
 * Live mmap ranges for the temporal aggregators: like memray's IntervalTree, a munmap reports what
 * it did to each mapping it touched — freed whole, shrunk at one end, or split in the middle — so
 * the aggregators can count a mapping once however it is cut up.
 */

/** One live piece of a mapping: `[start, end)`, tagged with the mapping's allocating event. */
export interface RangePiece<T> {
  start: number;
  end: number;
  mapping: T;
}

/** What a munmap removed from one piece. */
export interface RangeRemoval<T> {
  /** Bytes removed from this piece. */
  bytes: number;
  mapping: T;
  /** `freed`: the whole piece; `shrunk`: one end; `split`: the middle (two pieces remain). */
  how: "freed" | "shrunk" | "split";
}

/** Mapped ranges in insertion order (memray keeps a vector and rebuilds it on every munmap). */
export class MappedRanges<T> {
  pieces: RangePiece<T>[] = [];

  /** Adds a mapping; a mapping of 0 bytes is not kept (memray's `addInterval`). */
  add(start: number, size: number, mapping: T): void {
    if (size <= 0) return;
    this.pieces.push({ start, end: start + size, mapping });
  }

  /**
   * Unmaps `[start, start + size)`. Returns the removals grouped as memray reports them: all freed
   * pieces, then all shrunk ones, then all split ones, each group in range order.
   */
  remove(start: number, size: number): RangeRemoval<T>[] {
    if (size <= 0) return [];
    const end = start + size;
    const freed: RangeRemoval<T>[] = [];
    const shrunk: RangeRemoval<T>[] = [];
    const split: RangeRemoval<T>[] = [];
    const kept: RangePiece<T>[] = [];
    for (const p of this.pieces) {
      const lo = Math.max(p.start, start);
      const hi = Math.min(p.end, end);
      if (hi <= lo) {
        kept.push(p);
        continue;
      }
      const removal = { bytes: hi - lo, mapping: p.mapping };
      if (lo === p.start && hi === p.end) {
        freed.push({ ...removal, how: "freed" });
      } else if (lo === p.start) {
        shrunk.push({ ...removal, how: "shrunk" });
        kept.push({ start: hi, end: p.end, mapping: p.mapping });
      } else if (hi === p.end) {
        shrunk.push({ ...removal, how: "shrunk" });
        kept.push({ start: p.start, end: lo, mapping: p.mapping });
      } else {
        split.push({ ...removal, how: "split" });
        kept.push({ start: p.start, end: lo, mapping: p.mapping });
        kept.push({ start: hi, end: p.end, mapping: p.mapping });
      }
    }
    this.pieces = kept;
    return [...freed, ...shrunk, ...split];
  }

  /** Live pieces of `mapping` (after the last {@link remove}). */
  piecesOf(mapping: T): number {
    let n = 0;
    for (const p of this.pieces) if (p.mapping === mapping) n++;
    return n;
  }
}
