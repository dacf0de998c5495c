import { assertEquals, assertThrows } from "../support/assert.ts";
import { BOOTSTRAP, buildFakeCapture, locationTable } from "../support/fake_capture.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { packCapture } from "../../lib/capture/pack.ts";
import { encodeLz4Frame } from "../../lib/lz4/frame.ts";
import type { Capture } from "../../lib/capture/reader.ts";

function eventRows(c: Capture) {
  const rows = [];
  for (let i = 0; i < c.events.count; i++) {
    rows.push({
      seq: c.events.seq[i],
      kind: c.events.kind[i],
      addr: c.events.addr[i],
      size: c.events.size[i],
      thread: c.events.thread[i],
      stack: c.python.frames(c.events.py_stack[i], c.events.thread[i] === c.main_thread_id)
        .map((f) => `${f.function}:${f.lineno}`).join("<"),
      native: c.native.tree.frames(c.events.native_stack[i]).map((f) => c.native.frames.ip[f]),
    });
  }
  return rows;
}

Deno.test("every record type round-trips through the encoder and reader", () => {
  const c = readCaptureBytes(buildFakeCapture().finish(), "fake.bin");
  assertEquals(c.header.finished, true);
  assertEquals(c.header.pid, 4242);
  assertEquals(c.header.native_traces, true);
  assertEquals(c.header.metadata.command_line, "app.py --size 3");
  assertEquals(c.codes.size, 5);
  assertEquals(c.threads.get(2), { thread_id: 2, name: "worker-1", os_tid: 1002, origin: 0 });
  assertEquals(c.threads.get(1)?.os_tid, 1001);
  assertEquals(c.rss.map((r) => [r.time_offset_ms, r.rss_bytes]), [[500, 20e6], [1500, 25e6]]);
  assertEquals(c.module_maps[0].modules[0].segments.length, 2);
  assertEquals(c.module_maps[0].modules[0].build_id, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
  const rows = eventRows(c);
  assertEquals(rows.map((r) => r.kind), [1, 2, 0x0a, 1, 9, 0x11, 0x11, 0x12, 3, 0x11, 0x13, 1, 1]);
  // The launcher frames (bootstrap, runpy) are hidden on the main thread; lines come from tables.
  assertEquals(rows[0].stack, "<module>:5");
  assertEquals(rows[1].stack, "build:12<<module>:5");
  assertEquals(rows[8].stack, "build:13<<module>:5");
  assertEquals(rows[11].stack, "<module>:5");
  assertEquals(rows[3].stack, "work:23");
  assertEquals(rows[3].thread, 2);
  assertEquals(rows[1].native, [0x401300, 0x401200, 0x401000]);
  assertEquals(rows[11].native, [0x401200, 0x401000]);
  assertEquals(rows[4].addr, 0x7f0000001000);
  assertEquals(rows[7].size, 4096);
  // Without hiding, the launcher frames are there.
  const full = c.python.frames(c.events.py_stack[0], false).map((f) => f.filename);
  assertEquals(full, ["/work/app/app.py", "/usr/lib/python3.11/runpy.py", BOOTSTRAP]);
});

Deno.test("small chunks: stacks and addresses carry across a thread's chunks", () => {
  const big = readCaptureBytes(buildFakeCapture().finish(), "a.bin");
  const small = readCaptureBytes(buildFakeCapture({ chunk_size_bytes: 160 }).finish(), "b.bin");
  assertEquals(eventRows(small), eventRows(big));
});

Deno.test("packed and LZ4-compressed captures read the same as live ones", () => {
  const raw = buildFakeCapture({ chunk_size_bytes: 128 }).finish();
  const packed = packCapture(raw);
  assertEquals(packed.length < raw.length, true);
  const live = readCaptureBytes(raw, "live.bin");
  const p = readCaptureBytes(packed, "packed.bin");
  const z = readCaptureBytes(encodeLz4Frame(packed), "z.bin");
  assertEquals(p.header.packed, true);
  assertEquals(z.compressed, true);
  assertEquals(eventRows(p), eventRows(live));
  assertEquals(eventRows(z), eventRows(live));
});

Deno.test("a live capture cut mid-chunk reads up to the last complete record", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 4096 });
  const t = enc.thread(1);
  const ends: number[] = [];
  for (let i = 0; i < 50; i++) t.alloc(1, 0x1000 + 16 * i, 100 + i);
  const raw = enc.finish({ finished: false });
  // Record i (3 + varint bytes) ends somewhere: try every cut inside the chunk.
  const header = 4096;
  const used = new DataView(raw.buffer).getUint32(header, true);
  let previous = -1;
  for (let cut = header + 24; cut <= header + 24 + used; cut++) {
    const c = readCaptureBytes(raw.subarray(0, cut), "cut.bin");
    assertEquals(c.header.finished, false);
    assertEquals(c.cut_off, cut < header + 24 + used);
    const n = c.events.count;
    assertEquals(n >= previous, true);
    for (let i = 0; i < n; i++) assertEquals(c.events.size[i], 100 + i);
    previous = n;
    ends.push(n);
  }
  assertEquals(previous, 50);
  assertEquals(ends[0], 0);
  // A cut packed capture still packs to its complete records.
  const cut = raw.subarray(0, header + 24 + 40);
  const packed = readCaptureBytes(packCapture(cut), "p.bin");
  assertEquals(packed.events.count, readCaptureBytes(cut, "c.bin").events.count);
});

Deno.test("reserved but unwritten chunks (used_bytes 0) are skipped", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 256 });
  enc.reserveSlot();
  enc.thread(1).alloc(1, 0x10, 5);
  enc.reserveSlot();
  const c = readCaptureBytes(enc.finish({ finished: false }), "z.bin");
  assertEquals(c.events.count, 1);
});

Deno.test("seq merge orders a cross-thread free after its allocation", () => {
  const enc = new CaptureEncoder({ chunk_size_bytes: 256 });
  const a = enc.thread(1);
  const b = enc.thread(2);
  // Thread 2's chunk comes first in the file, but its free happened later.
  b.free(0x100, 0x11, 7);
  b.alloc(1, 0x300, 3, 9);
  a.alloc(1, 0x100, 50, 4);
  a.alloc(1, 0x200, 60, 8);
  const c = readCaptureBytes(enc.finish(), "m.bin");
  assertEquals(Array.from(c.events.seq), [4, 7, 8, 9]);
  assertEquals(Array.from(c.events.thread), [1, 2, 1, 2]);
  assertEquals(Array.from(c.events.kind), [1, 0x11, 1, 1]);
});

Deno.test("broken files give one-line errors", () => {
  const good = buildFakeCapture().finish();
  const bad_magic = good.slice();
  bad_magic[0] = 0x58;
  const bad_version = good.slice();
  bad_version[8] = 9;
  const bad_record = good.slice();
  bad_record[4096 + 24] = 0x5f; // First record's type byte of the first chunk.
  const garbage = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "file is empty"],
    [good.subarray(0, 40), "header is truncated"],
    [good.subarray(0, 2000), "header is truncated"],
    [bad_magic, "bad magic"],
    [bad_version, "format version 9"],
    [garbage, "bad magic"],
    [bad_record, "unknown record type 0x5f"],
    [Uint8Array.from([4, 0x22, 0x4d, 0x18, 0x40]), "LZ4"],
  ];
  for (const [bytes, what] of cases) {
    const e = assertThrows(() => readCaptureBytes(bytes, "x.bin"), CaptureError, what);
    assertEquals(e.message.startsWith("Cannot parse capture x.bin: "), true);
    assertEquals(e.message.includes("\n"), false);
  }
});

Deno.test("popping more frames than a thread has is an error", () => {
  const enc = new CaptureEncoder();
  enc.thread(1).code({
    code_id: 1,
    first_line: 1,
    name: "f",
    filename: "f.py",
    linetable: locationTable([0]),
  });
  enc.thread(1).pyStack(2, []);
  assertThrows(() => readCaptureBytes(enc.finish(), "p.bin"), CaptureError, "pops 2 Python frames");
});
