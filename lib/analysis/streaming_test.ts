import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { CaptureEncoder } from "../../tests/support/capture_encoder.ts";
import { locationTable } from "../../tests/support/fake_capture.ts";
import { withFile } from "../../tests/support/files.ts";
import { syntheticCapture } from "../../tests/support/synthetic.ts";
import { CaptureError } from "../capture/errors.ts";
import { scanEvents } from "../capture/event_scan.ts";
import { parseHeader } from "../capture/header.ts";
import { readCaptureBytes } from "../capture/reader.ts";
import * as R from "../capture/records.ts";
import { encodeLz4Frame } from "../lz4/frame.ts";
import { selectSnapshot } from "./snapshot.ts";
import { computeStatistics } from "./stats.ts";
import { streamPeakSnapshot, streamStatistics } from "./streaming.ts";
import { functionTotals } from "./summary.ts";

/** Threads interleaving by seq, stacks changing, reused addresses, an mmap split by munmap. */
function mixedCapture(): Uint8Array {
  const enc = new CaptureEncoder({ chunk_size_bytes: 256 });
  for (let t = 1; t <= 3; t++) {
    enc.thread(t).code({
      code_id: t,
      first_line: 1,
      name: `f${t}`,
      filename: `/app/t${t}.py`,
      linetable: locationTable([0, 1, 1]),
    });
  }
  let x = 7;
  const live: number[][] = [[], [], [], []];
  const pushed = [false, false, false, false];
  for (let i = 0; i < 3000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const t = 1 + (x % 3);
    const w = enc.thread(t);
    if (i % 5 === 0) {
      w.pyStack(pushed[t] ? 1 : 0, [{ code_id: t, instr_offset_bytes: 2 * (i % 3) }]);
      pushed[t] = true;
    }
    if (live[t].length > 20 && (x & 4)) {
      const k = (x >>> 8) % live[t].length;
      w.free(live[t][k]);
      live[t].splice(k, 1);
    } else {
      const addr = 0x10000 * t + 16 * ((x >>> 5) % 200); // Reused: some frees go missing.
      w.alloc(R.REC_ALLOC_FIRST, addr, 100 + (x % 900));
      live[t].push(addr);
    }
    if (i === 1500) {
      w.alloc(R.ALLOC_MMAP, 0x7000000, 1 << 20);
      w.munmap(0x7000000 + 4096, 4096);
    }
  }
  return enc.finish();
}

const captures: [string, () => Uint8Array][] = [
  ["synthetic, one thread", () => syntheticCapture(20_000)],
  ["synthetic, four threads", () => syntheticCapture(20_000, 4)],
  ["mixed", mixedCapture],
  ["mixed, cut off by a crash", () => mixedCapture().slice(0, 9000)],
  ["mixed, LZ4", () => encodeLz4Frame(mixedCapture())],
];

// `native`: the report library's one-pass fold (the default), or the TypeScript scan.
for (const [name, make] of captures) {
  for (const native of [true, false]) {
    const how = native ? "native fold" : "TypeScript scan";
    Deno.test(`streamed stats equal the in-memory ones (${how}): ${name}`, async () => {
      const bytes = make();
      const full = readCaptureBytes(bytes, "x.bin");
      const expected = computeStatistics(full, 5);
      const { stats } = await withFile(
        bytes,
        (path) => streamStatistics(path, 5, { progress: false, native }),
      );
      assertEquals(stats, expected);
    });

    Deno.test(`streamed peak snapshot equals the in-memory one (${how}): ${name}`, async () => {
      const bytes = make();
      const full = readCaptureBytes(bytes, "x.bin");
      for (const merge_threads of [true, false]) {
        const expected = selectSnapshot(full, { mode: "high_water_mark", merge_threads });
        const got = await withFile(
          bytes,
          (path) => streamPeakSnapshot(path, { merge_threads, progress: false, native }),
        );
        assertEquals(got.snapshot.heap_bytes, expected.heap_bytes);
        // Node ids are the scan's own: compare what they resolve to.
        const show = (c: typeof full | typeof got.capture, rs: typeof expected.records) =>
          rs.map((r) => ({
            ...r,
            py_stack: c.python.frames(r.py_stack, false),
            native_stack: c.native.tree.frames(r.native_stack),
          }));
        assertEquals(show(got.capture, got.snapshot.records), show(full, expected.records));
        assertEquals(
          functionTotals(got.capture, got.snapshot.records),
          functionTotals(full, expected.records),
        );
      }
    });
  }
}

Deno.test("a scan batch never exceeds its size and stops when asked", () => {
  const bytes = syntheticCapture(10_000, 2);
  const header = parseHeader(bytes, "s.bin");
  const counts: number[] = [];
  const { event_count } = scanEvents(bytes, header, "s.bin", {
    batch_events: 1000,
    onBatch: (b) => {
      counts.push(b.count);
      return counts.length < 3;
    },
  });
  assertEquals(counts, [1000, 1000, 1000]);
  assertEquals(event_count, 3000);
});

Deno.test("the scan rejects what the reader rejects", () => {
  const enc = new CaptureEncoder();
  enc.thread(1).alloc(1, 0x1000, 10);
  const bytes = enc.finish();
  const header = parseHeader(bytes, "b.bin");
  const bad = bytes.slice();
  bad[header.header_size_bytes + 24] = 0x22; // Unknown record type.
  const e = assertThrows(
    () => scanEvents(bad, header, "b.bin", { onBatch: () => {} }),
    CaptureError,
  );
  assertEquals(e.message.includes("unknown record type 0x22"), true);
});
