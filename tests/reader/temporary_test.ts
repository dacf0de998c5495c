import { assertEquals, assertThrows } from "../support/assert.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import { temporaryAllocations } from "../../lib/analysis/temporary.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";

const VALLOC = 0x07;
const MMAP = 0x09;

Deno.test("an allocation freed right away is temporary", () => {
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  t.alloc(VALLOC, 0x10, 100);
  t.free(0x10);
  t.alloc(VALLOC, 0x20, 200); // never freed
  const c = readCaptureBytes(enc.finish(), "t.bin");
  assertEquals(temporaryAllocations(c.events, 1), [0]);
  const s = selectSnapshot(c, { mode: "temporary", merge_threads: false });
  assertEquals(s.records.map((r) => [r.size_bytes, r.count]), [[100, 1]]);
  assertEquals(s.heap_bytes, 100);
});

Deno.test("k+1 allocations freed in reverse: threshold k-1 finds exactly one", () => {
  const k = 5;
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  for (let i = 0; i <= k; i++) t.alloc(VALLOC, 0x100 * (i + 1), 10);
  for (let i = k; i >= 0; i--) t.free(0x100 * (i + 1));
  const c = readCaptureBytes(enc.finish(), "t.bin");
  // The deque holds the k most recent: all of them are found except the first allocation.
  assertEquals(temporaryAllocations(c.events, k - 1).length, k);
  assertEquals(temporaryAllocations(c.events, k).length, k + 1);
  assertEquals(temporaryAllocations(c.events, 0), [k]);
  assertThrows(() => temporaryAllocations(c.events, -1), RangeError);
});

Deno.test("temporary detection is per thread; munmap needs the same size", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 256 });
  const a = enc.thread(1);
  const b = enc.thread(2);
  a.alloc(VALLOC, 0x10, 100);
  b.alloc(VALLOC, 0x20, 100);
  b.free(0x10); // another thread's allocation: not temporary
  a.free(0x10);
  a.alloc(MMAP, 0x10000, 8192);
  a.munmap(0x10000, 4096); // partial: not temporary
  b.alloc(MMAP, 0x20000, 4096);
  b.munmap(0x20000, 4096);
  const c = readCaptureBytes(enc.finish(), "t.bin");
  const found = temporaryAllocations(c.events, 1).map((
    i,
  ) => [c.events.thread[i], c.events.addr[i]]);
  assertEquals(found, [[1, 0x10], [2, 0x20000]]);
});

Deno.test("a matched allocation keeps its slot, as in memray's aggregator", () => {
  const enc = new CaptureEncoder();
  const t = enc.thread(1);
  t.alloc(VALLOC, 0x10, 100); // A
  t.alloc(VALLOC, 0x20, 200); // B
  t.free(0x20); // B is temporary, and stays among the 2 most recent
  t.alloc(VALLOC, 0x30, 300); // C pushes A out
  t.free(0x10); // A is no longer among the 2 most recent: not temporary
  const c = readCaptureBytes(enc.finish(), "t.bin");
  assertEquals(temporaryAllocations(c.events, 1), [1]);
});
