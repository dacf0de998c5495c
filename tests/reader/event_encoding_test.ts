/**
 * The compact event records (docs/capture-format.md, "Event records"): implied seq steps and
 * SEQ_SKIP, the 15-slot address cache, aligned and unaligned address deltas, inline and escaped
 * kinds, checked byte by byte and through the reader.
 */
import { assertEquals, assertThrows } from "../support/assert.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { CHUNK_HEADER_BYTES } from "../../lib/capture/header.ts";

const HEADER_BYTES = 4096;

function chunkBody(raw: Uint8Array): number[] {
  const used = new DataView(raw.buffer).getUint32(HEADER_BYTES, true);
  const start = HEADER_BYTES + CHUNK_HEADER_BYTES;
  return Array.from(raw.subarray(start, start + used));
}

/** A capture whose only chunk holds `body` (thread 1, first_seq 10). */
function withBody(body: number[]): Uint8Array {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  enc.seq = 10;
  enc.thread(1).threadInfo(1, 0);
  const raw = enc.finish();
  const view = new DataView(raw.buffer);
  view.setUint32(HEADER_BYTES, body.length, true);
  raw.set(body, HEADER_BYTES + CHUNK_HEADER_BYTES);
  return raw;
}

Deno.test("event bytes: the encoder writes what the format pins", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  enc.seq = 10;
  const t = enc.thread(1);
  t.alloc(0x01, 0x1000, 32); // seq 11: miss, aligned delta 0x1000, size 32
  t.free(0x1000); // seq 12: hit slot 0
  t.alloc(0x09, 0x1008, 5, 20); // seq 20: skip 7, mmap escaped, unaligned delta 8
  t.alloc(0x0a, 0x1000, 7, 21); // seq 21: hit slot 1
  t.free(0x1000, 0x13, 100); // seq 100: long skip 78, hit slot 0
  // The same heads as the Zig writer's test (native/engine/chunk_writer.zig), plus sizes.
  // deno-fmt-ignore
  assertEquals(chunkBody(enc.finish()), [
    0xf9, 0x80, 0x08, 32, // 1 1111 001: miss, malloc; zigzag(0x100) << 1; size
    0x83, //                 1 0000 011: slot 0, free
    0x67, 0xf8, 0x09, 0x21, 5, // skip 7; 1 1111 000 + kind byte mmap; zigzag(8) << 1 | 1; size
    0x8c, 7, //              1 0001 100: slot 1, pymalloc_malloc; size
    0x60, 78, 0x87, //       SEQ_SKIP 78; 1 0000 111: slot 0, pymalloc_free
  ]);
});

Deno.test("events round-trip: every slot, evictions, skips, escaped kinds, big deltas", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 512 });
  const t = enc.thread(1);
  const other = enc.thread(2);
  const expected: [number, number, number, number][] = []; // seq, kind, addr, size
  const kinds = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c];
  let x = 0x5555_0000;
  for (let i = 0; i < 400; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    // Reuse one of the last 20 addresses often (hits in every slot, and misses just past 15).
    const back = x % 20;
    const addr = i > 20 && x % 3 !== 0
      ? expected[expected.length - 1 - back][2]
      : 0x7f00_0000_0000 + (x % 4096) * (i % 7 === 0 ? 1 : 16);
    const kind = x % 5 === 0 ? 0x11 : x % 11 === 0 ? 0x13 : x % 13 === 0 ? 0x12 : kinds[x % 12];
    if (x % 9 === 0) other.alloc(1, 0x10, 1); // Another thread's event: a seq gap of 1.
    if (x % 17 === 0) { for (let k = 0; k < 40; k++) enc.nextSeq(); // A long gap.
     }
    const size = kind === 0x11 || kind === 0x13 ? 0 : x % 100_000;
    const seq = kind === 0x11 || kind === 0x13
      ? t.free(addr, kind)
      : kind === 0x12
      ? t.munmap(addr, size)
      : t.alloc(kind, addr, size);
    expected.push([seq, kind, addr, size]);
  }
  t.alloc(1, 2 ** 52 + 16, 1); // A huge positive delta, then a huge negative one.
  t.alloc(1, 0x20, 1);
  const c = readCaptureBytes(enc.finish(), "r.bin");
  const rows: [number, number, number, number][] = [];
  for (let i = 0; i < c.events.count; i++) {
    if (c.events.thread[i] !== 1) continue;
    rows.push([c.events.seq[i], c.events.kind[i], c.events.addr[i], c.events.size[i]]);
  }
  assertEquals(rows.slice(0, expected.length), expected);
  assertEquals(rows.slice(expected.length).map((r) => r[2]), [2 ** 52 + 16, 0x20]);
  assertEquals(c.events.count, rows.length + c.events.thread.filter((t) => t === 2).length);
});

Deno.test("the cache starts empty (all zero) in every chunk", () => {
  // A free of address 0 is a hit on slot 0 of a fresh cache (munmap may name address 0).
  const c = readCaptureBytes(withBody([0x80 | 0x00 | 0, 0x12, 64]), "z.bin");
  assertEquals(Array.from(c.events.addr), [0]);
  assertEquals(Array.from(c.events.kind), [0x12]);
  assertEquals(Array.from(c.events.seq), [11]);
});

Deno.test("short SEQ_SKIP bytes 0x61-0x7F skip 1-31", () => {
  const c = readCaptureBytes(withBody([0x61, 0x83, 0x7f, 0x83, 0x60, 0x01, 0x83]), "s.bin");
  assertEquals(Array.from(c.events.seq), [12, 44, 46]);
});

Deno.test("bad event records give one-line errors", () => {
  const cases: [number[], string][] = [
    [[0x80 | (15 << 3), 0x14, 0x02], "unknown event kind 0x14"],
    [[0x80, 0x00], "unknown event kind 0x0"],
    [[0xf9, 0x80], "runs past the end of its chunk"],
    [[0x60], "runs past the end of its chunk"],
  ];
  for (const [body, what] of cases) {
    const e = assertThrows(() => readCaptureBytes(withBody(body), "x.bin"), CaptureError, what);
    assertEquals(e.message.startsWith("Cannot parse capture x.bin: "), true);
  }
});
