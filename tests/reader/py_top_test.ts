/**
 * PY_TOP records (docs/capture-format.md, "Python stack records"): a diff that only replaces the
 * top Python frame, as a hit of the chunk's 16-slot top cache or an offset delta against its
 * slot 0. Checked byte by byte, and through both readers (the record walker behind
 * readCaptureBytes and the event scan) against the same stacks written as general PY_STACK records.
 */
import { assertEquals, assertThrows } from "../support/assert.ts";
import { CaptureEncoder, FakeFrame } from "../support/capture_encoder.ts";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import { scanEvents } from "../../lib/capture/event_scan.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { CHUNK_HEADER_BYTES, parseHeader } from "../../lib/capture/header.ts";
import type { PythonStacks } from "../../lib/capture/python_stacks.ts";

const HEADER_BYTES = 4096;

function chunkBody(raw: Uint8Array): number[] {
  const used = new DataView(raw.buffer).getUint32(HEADER_BYTES, true);
  const start = HEADER_BYTES + CHUNK_HEADER_BYTES;
  return Array.from(raw.subarray(start, start + used));
}

const frame = (code_id: number, instr_offset_bytes: number, is_entry = false): FakeFrame => ({
  code_id,
  instr_offset_bytes,
  is_entry,
});

Deno.test("PY_TOP bytes: the encoder writes what the format pins", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  const t = enc.thread(1);
  t.pyStack(0, [frame(1, 10, true), frame(2, 40)]); // general; (2, 40) enters slot 0
  t.pyStack(1, [frame(2, 116)]); // same code as slot 0: delta +76
  t.pyStack(1, [frame(2, 40)]); // hit slot 1
  t.pyStack(1, [frame(2, 116)]); // hit slot 1
  t.pyStack(1, [frame(2, 116)]); // hit slot 0 (the writer never does this; readers accept it)
  t.pyStack(1, [frame(3, 8)]); // another code: general, enters slot 0
  t.pyStack(1, [frame(2, -42)]); // slot 0 is code 3: general, not a delta
  t.pyStack(1, [frame(2, 0)]); // delta +42
  t.pyStack(2, [frame(4, 6, true)]); // two pops: general
  t.pyStack(1, [frame(2, 40)], { compact: false }); // forced general
  // deno-fmt-ignore
  assertEquals(chunkBody(enc.finish()), [
    0x20, 0, 2, 3, 20, 4, 80, // PY_STACK pops 0 pushes 2: (1 << 1 | 1, zz 10), (2 << 1, zz 40)
    0x10, 0x98, 0x01, //      PY_TOP_DELTA zz(76) = 152
    0x01, //                  PY_TOP_HIT slot 1
    0x01, //                  PY_TOP_HIT slot 1
    0x00, //                  PY_TOP_HIT slot 0
    0x20, 1, 1, 6, 16, //     PY_STACK pops 1 pushes 1: (3 << 1, zz 8)
    0x20, 1, 1, 4, 83, //     PY_STACK pops 1 pushes 1: (2 << 1, zz -42)
    0x10, 84, //              PY_TOP_DELTA zz(42)
    0x20, 2, 1, 9, 12, //     PY_STACK pops 2 pushes 1: (4 << 1 | 1, zz 6)
    0x20, 1, 1, 4, 80, //     PY_STACK pops 1 pushes 1: (2 << 1, zz 40)
  ]);
});

/** Each allocation's Python stack as [code_id, is_entry, offset] triples, outermost first. */
function stacksOf(python: PythonStacks, nodes: ArrayLike<number>): number[][][] {
  const t = python.frame_table;
  return Array.from(
    nodes,
    (node) =>
      python.tree.frames(node).reverse().map((
        f,
      ) => [t.code_id[f], t.is_entry[f], t.instr_offset[f]]),
  );
}

function readerStacks(bytes: Uint8Array): number[][][] {
  const c = readCaptureBytes(bytes, "p.bin");
  const nodes: number[] = [];
  for (let i = 0; i < c.events.count; i++) {
    if (c.events.kind[i] === 0x01) nodes.push(c.events.py_stack[i]);
  }
  return stacksOf(c.python, nodes);
}

function scanStacks(bytes: Uint8Array): number[][][] {
  const nodes: number[] = [];
  const { capture } = scanEvents(bytes, parseHeader(bytes, "p.bin"), "p.bin", {
    batch_events: 64,
    onBatch: (b) => {
      for (let i = 0; i < b.count; i++) if (b.kind[i] === 0x01) nodes.push(b.py_stack[i]);
    },
  });
  return stacksOf(capture.python, nodes);
}

/**
 * Two threads walking random stacks: mostly the top frame cycling through a few offsets of a few
 * functions (hits, deltas, evictions past 16 slots), sometimes calls and returns. Small chunks
 * make the cache restart often.
 */
function randomCapture(compact: boolean, chunk_size_bytes: number): {
  bytes: Uint8Array;
  expected: number[][][];
} {
  const enc = new CaptureEncoder({ chunk_size_bytes });
  const threads = [enc.thread(1), enc.thread(2)];
  const stacks: FakeFrame[][] = [[], []];
  const expected: number[][][] = [];
  let x = 12345;
  const random = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((x / 2 ** 31) * n);
  };
  for (let i = 0; i < 3000; i++) {
    const which = random(2);
    const t = threads[which];
    const stack = stacks[which];
    const roll = random(100);
    // Offsets from a small set, with a wide one now and then (multi-byte deltas, negatives).
    const offset = () => (random(10) === 0 ? random(40_000) - 20_000 : 2 * random(24));
    if (stack.length === 0 || roll < 8) {
      const pushed = [frame(1 + random(40), offset(), random(5) === 0)];
      stack.push(...pushed);
      t.pyStack(0, pushed, { compact });
    } else if (roll < 14 && stack.length > 1) {
      const pops = 1 + random(stack.length - 1);
      stack.length -= pops;
      t.pyStack(pops, [], { compact });
    } else if (roll < 18) {
      stack.pop();
      const pushed = [frame(1 + random(40), offset()), frame(1 + random(40), offset())];
      stack.push(...pushed);
      t.pyStack(1, pushed, { compact });
    } else {
      const top = stack[stack.length - 1];
      const code_id = random(4) === 0 ? 1 + random(40) : top.code_id;
      const replaced = frame(code_id, offset(), code_id === top.code_id ? top.is_entry : false);
      stack[stack.length - 1] = replaced;
      t.pyStack(1, [replaced], { compact });
    }
    t.alloc(0x01, 0x1000 + 16 * i, 8);
    expected.push(stack.map((f) => [f.code_id, f.is_entry ? 1 : 0, f.instr_offset_bytes]));
  }
  return { bytes: enc.finish(), expected };
}

/** Equal stacks, reporting the first event that differs (a whole-array diff takes minutes). */
function assertStacks(got: number[][][], expected: number[][][]): void {
  const differs = (k: number) => JSON.stringify(got[k]) !== JSON.stringify(expected[k]);
  const first = Array.from({ length: Math.max(got.length, expected.length) }, (_, k) => k)
    .find(differs);
  if (first !== undefined) assertEquals([first, got[first]], [first, expected[first]]);
}

Deno.test("PY_TOP round trip: both readers see the stacks the general records give", () => {
  for (const chunk_size_bytes of [256, 4096, 1 << 20]) {
    const compact = randomCapture(true, chunk_size_bytes);
    const general = randomCapture(false, chunk_size_bytes);
    assertStacks(compact.expected, general.expected);
    assertStacks(readerStacks(general.bytes), general.expected);
    assertStacks(readerStacks(compact.bytes), compact.expected);
    assertStacks(scanStacks(compact.bytes), compact.expected);
    if (chunk_size_bytes === 1 << 20) {
      // The compact forms pay, though alloc events (4 bytes each) dominate this chunk.
      const used = (b: Uint8Array) => new DataView(b.buffer).getUint32(HEADER_BYTES, true);
      assertEquals(used(compact.bytes) < 0.85 * used(general.bytes), true); // Measured: 0.80.
    }
  }
});

/** A capture of one chunk whose records are `body` (after a THREAD_INFO that holds its place). */
function withBody(body: number[]): Uint8Array {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  enc.thread(1).threadInfo(1, 0);
  const raw = enc.finish();
  new DataView(raw.buffer).setUint32(HEADER_BYTES, body.length, true);
  raw.set(body, HEADER_BYTES + CHUNK_HEADER_BYTES);
  return raw;
}

Deno.test("PY_TOP: both readers reject empty slots, an empty stack and a cut delta", () => {
  const alloc = [0xf9, 0x80, 0x08, 8];
  const cases: [number[], string][] = [
    [[0x20, 0, 1, 2, 0, 0x01, ...alloc], "PY_TOP_HIT of empty top-cache slot 1"],
    [[0x0f, ...alloc], "PY_TOP_HIT of empty top-cache slot 15"],
    [[0x10, 2, ...alloc], "PY_TOP_DELTA with an empty top cache"],
    // Slot 0 holds a frame, but the stack was emptied by a pop.
    [[0x20, 0, 1, 2, 0, 0x20, 1, 0, 0x00, ...alloc], "pops 1 Python frames from a stack of 0"],
    [[0x20, 0, 1, 2, 0, 0x10, 0x80], "runs past the end of its chunk"],
  ];
  for (const [body, message] of cases) {
    const bytes = withBody(body);
    const readers = [
      () => readCaptureBytes(bytes, "p.bin"),
      () => scanEvents(bytes, parseHeader(bytes, "p.bin"), "p.bin", { onBatch: () => {} }),
    ];
    for (const read of readers) {
      const e = assertThrows(read, CaptureError);
      assertEquals(e.message.includes(message), true, `${e.message} lacks ${message}`);
    }
  }
});

Deno.test("PY_TOP: the top cache starts empty in every chunk", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  const t = enc.thread(1);
  t.pyStack(0, [frame(1, 4)]);
  t.pyStack(1, [frame(1, 8)]); // delta
  t.flush();
  t.pyStack(1, [frame(1, 4)]); // a new chunk: general, though (1, 4) was cached before
  t.alloc(0x01, 0x1000, 8);
  const bytes = enc.finish();
  const second = HEADER_BYTES + 4096 + CHUNK_HEADER_BYTES;
  assertEquals(Array.from(bytes.subarray(second, second + 5)), [0x20, 1, 1, 2, 8]);
  assertEquals(readerStacks(bytes), [[[1, 0, 4]]]);
  assertEquals(scanStacks(bytes), [[[1, 0, 4]]]);
  // The same chunk starting with a hit of slot 1 is invalid.
  bytes[second] = 0x01;
  assertThrows(() => readCaptureBytes(bytes, "p.bin"), CaptureError, "empty top-cache slot 1");
});
