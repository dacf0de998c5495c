/**
 * Fast synthetic captures for speed checks: `n` allocations (and frees of every other one) on
 * `threads` threads, with a Python stack change every 8 allocations. Written with the
 * {@link CaptureEncoder}'s layout but by direct byte pushes, since millions of records are needed.
 */
import { CaptureEncoder } from "./capture_encoder.ts";
import { locationTable } from "./fake_capture.ts";

/** Builds a live-layout capture with `n` allocation events. */
export function syntheticCapture(n: number, threads = 1): Uint8Array {
  const enc = new CaptureEncoder({ chunk_size_bytes: 1 << 20 });
  for (let t = 1; t <= threads; t++) {
    const w = enc.thread(t);
    for (let c = 1; c <= 4; c++) {
      w.code({
        code_id: t * 10 + c,
        first_line: c * 10,
        name: `f${c}`,
        filename: `/app/m${t}.py`,
        linetable: locationTable([0, 1, 1, 1]),
      });
    }
  }
  for (let i = 0; i < n; i++) {
    const t = enc.thread(1 + (i % threads));
    if (i % 8 === 0) {
      t.pyStack(i === 0 || i < 8 * threads ? 0 : 1, [{
        code_id: (1 + (i % threads)) * 10 + 1 + ((i >> 3) & 3),
        instr_offset_bytes: 2 * (i & 3),
      }]);
    }
    t.alloc(1, 0x100000 + 64 * i, 16 + (i & 255));
    if (i % 2 === 1) t.free(0x100000 + 64 * (i - 1));
  }
  return enc.finish();
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1_000_000);
  const threads = Number(Deno.args[1] ?? 1);
  const t0 = performance.now();
  const bytes = syntheticCapture(n, threads);
  const t1 = performance.now();
  const { readCaptureBytes } = await import("../../lib/capture/reader.ts");
  const { highWaterMark } = await import("../../lib/analysis/replay.ts");
  const c = readCaptureBytes(bytes, "synthetic.bin");
  const t2 = performance.now();
  const h = highWaterMark(c.events);
  const t3 = performance.now();
  console.log(
    `${n} allocations, ${threads} threads, ${bytes.length} bytes: encode ${
      (t1 - t0).toFixed(0)
    } ms, ` +
      `read ${(t2 - t1).toFixed(0)} ms (${c.events.count} events), peak ${
        (t3 - t2).toFixed(0)
      } ms ` +
      `(${h.peak_bytes} B)`,
  );
}
