/**
 * Compressing a real capture: the report library through FFI vs lz4-wasm (lib/lz4/frame.ts).
 * Make the capture first (about 110 MB):
 *   .tools/bin/deno run -A main.ts run --trace-python-allocators --no-compress -o /tmp/big.bin \
 *     bench/workloads/threads.py
 * then: .tools/bin/deno bench -A lib/ffi_bench.ts   (MEMRAY_BENCH_CAPTURE names another file)
 * Besides deno bench's wall times it prints CPU times (best of 3), which stay meaningful on a
 * busy machine.
 */
import process from "node:process";
import { loadReportLib, lz4CompressFrame, lz4DecompressFrame } from "./ffi.ts";
import { decodeLz4Frame, encodeLz4Frame } from "./lz4/frame.ts";
import { packCapture } from "./capture/pack.ts";

const path = Deno.env.get("MEMRAY_BENCH_CAPTURE") ?? "/tmp/big.bin";
const packed = packCapture(await Deno.readFile(path), path);
await loadReportLib();

function cpuMs<T>(body: () => T): [number, T] {
  let best = Infinity;
  let result: T | undefined;
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    result = body();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return [best, result as T];
}

const [ffi_ms, ffi_frame] = cpuMs(() => lz4CompressFrame(packed));
const [wasm_ms, wasm_frame] = cpuMs(() => encodeLz4Frame(packed));
const [ffi_decode_ms] = cpuMs(() => lz4DecompressFrame(ffi_frame));
const [ts_decode_ms] = cpuMs(() => decodeLz4Frame(ffi_frame));
const mb = (n: number) => (n / 1e6).toFixed(1);
console.log(`${path}: packed ${mb(packed.length)} MB`);
for (
  const [name, ms, size] of [
    ["compress, FFI     ", ffi_ms, ffi_frame.length],
    ["compress, lz4-wasm", wasm_ms, wasm_frame.length],
  ] as const
) {
  console.log(
    `  ${name} ${ms.toFixed(0)} ms CPU, ${mb(size)} MB, ratio ${(packed.length / size).toFixed(3)}`,
  );
}
console.log(
  `  decompress, FFI ${ffi_decode_ms.toFixed(0)} ms CPU; decodeLz4Frame ${
    ts_decode_ms.toFixed(0)
  } ms CPU`,
);

Deno.bench({ name: "compress capture: FFI (libmemrayd_report)", n: 5, warmup: 1 }, () => {
  lz4CompressFrame(packed);
});

Deno.bench({ name: "compress capture: lz4-wasm (encodeLz4Frame)", n: 5, warmup: 1 }, () => {
  encodeLz4Frame(packed);
});
