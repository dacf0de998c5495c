import { assertEquals } from "../../tests/support/assert.ts";
import { ALLOC_MMAP, REC_ALLOC_FIRST, REC_FREE, REC_MUNMAP } from "../capture/records.ts";
import { LiveTable } from "./live_table.ts";

/**
 * A deliberately naive model of memray's rules (reference §2.1): address -> allocation for simple
 * allocations, a list of byte ranges for mappings.
 */
class Model {
  simple = new Map<number, { index: number; bytes: number }>();
  ranges: { start: number; end: number; index: number }[] = [];
  heap = 0;

  apply(kind: number, addr: number, size: number, index: number): void {
    if (kind === REC_FREE) {
      this.heap -= this.simple.get(addr)?.bytes ?? 0;
      this.simple.delete(addr);
    } else if (kind === REC_MUNMAP) {
      const kept = [];
      for (const r of this.ranges) {
        for (let b = r.start; b < r.end; b++) {
          if (b >= addr && b < addr + size) this.heap--;
        }
        if (r.end <= addr || r.start >= addr + size) kept.push(r);
        else {
          if (r.start < addr) kept.push({ ...r, end: addr });
          if (r.end > addr + size) kept.push({ ...r, start: addr + size });
        }
      }
      this.ranges = kept;
    } else if (kind === ALLOC_MMAP) {
      this.ranges.push({ start: addr, end: addr + size, index });
      this.heap += size;
    } else {
      this.heap += size - (this.simple.get(addr)?.bytes ?? 0);
      this.simple.set(addr, { index, bytes: size });
    }
  }

  live(): [number, number][] {
    const by_index = new Map<number, number>();
    for (const a of this.simple.values()) by_index.set(a.index, a.bytes);
    const rows: [number, number][] = [...by_index];
    // Each piece left of a split mapping is a row of its own (memray counts every range).
    for (const r of this.ranges) rows.push([r.index, r.end - r.start]);
    return rows.sort((a, b) => a[0] - b[0]);
  }
}

function rows(table: LiveTable): [number, number][] {
  const live = table.live();
  return Array.from(live.index, (index, k) => [index, live.bytes[k]]);
}

Deno.test("LiveTable follows memray's rules through growth, reuse, unknown frees and munmap", () => {
  let x = 12345;
  const next = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  // A small table so growth and backward-shift deletion run many times.
  const table = new LiveTable(2);
  const model = new Model();
  for (let i = 0; i < 6000; i++) {
    const r = next(100);
    let kind = REC_ALLOC_FIRST;
    // Addresses collide often (reuse without a free); some frees are of unknown addresses.
    let addr = 16 * next(3000);
    let size = 1 + next(500);
    if (r < 40) [kind, size] = [REC_FREE, 0];
    else if (r < 43) [kind, addr, size] = [ALLOC_MMAP, 0x1000000 + 64 * next(400), 1 + next(300)];
    else if (r < 46) [kind, addr, size] = [REC_MUNMAP, 0x1000000 + 64 * next(400), 1 + next(200)];
    const delta = table.apply(kind, addr, size, i, 1, 2, 3);
    const before = model.heap;
    model.apply(kind, addr, size, i);
    assertEquals([table.heap_bytes, delta], [model.heap, model.heap - before]);
    if (i % 1000 === 999) assertEquals(rows(table), model.live());
  }
  assertEquals(rows(table), model.live());
});

Deno.test("LiveTable lists allocations by event index, whatever the addresses' order", () => {
  const table = new LiveTable();
  // Indices spanning several 11-bit digits, inserted out of order at descending addresses.
  const indices = [2 ** 40 + 7, 5, 2 ** 22 + 1, 2 ** 11, 2 ** 40 + 3, 0, 2 ** 33, 2047];
  indices.forEach((index, k) =>
    table.apply(REC_ALLOC_FIRST, 0x9000 - 16 * k, 10 + k, index, k, k, k)
  );
  table.apply(ALLOC_MMAP, 0x100000, 0x3000, 2 ** 22, 9, 9, 9);
  table.apply(REC_MUNMAP, 0x101000, 0x1000, 2 ** 22 + 5, 0, 0, 0); // splits it: two pieces remain
  const live = table.live();
  const sorted = [...indices, 2 ** 22, 2 ** 22].sort((a, b) => a - b);
  assertEquals(Array.from(live.index), sorted);
  const k_of = (index: number) => indices.indexOf(index);
  // Bytes and stacks travel with their row; each piece of the split mapping is one page.
  assertEquals(
    Array.from(live.bytes),
    sorted.map((index) => index === 2 ** 22 ? 0x1000 : 10 + k_of(index)),
  );
  assertEquals(
    Array.from(live.thread_id),
    sorted.map((index) => index === 2 ** 22 ? 9 : k_of(index)),
  );
  assertEquals(live.kind[sorted.indexOf(2 ** 22)], ALLOC_MMAP);
});
