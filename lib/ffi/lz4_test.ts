import assert from "node:assert/strict";
import {
  compressCaptureFile,
  lz4CompressFrame,
  lz4DecompressFile,
  lz4DecompressFrame,
  lz4FrameContentSize,
} from "./lz4.ts";
import { loadReportLib, ReportLibError } from "../ffi.ts";
import { decodeLz4Frame, encodeLz4Frame } from "../lz4/frame.ts";

const lib = await loadReportLib();

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Record-like data: repeated small structs with slowly changing fields, some noise. */
function compressibleBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 16 <= n; i += 16) {
    view.setUint32(i, 0x1000 + (i >> 10), true);
    view.setUint32(i + 4, (i * 7) & 0xffff, true);
    view.setUint32(i + 8, 0xdeadbeef, true);
    view.setUint32(i + 12, i % 4096 === 0 ? i : 42, true);
  }
  return out;
}

/** 9 MiB: a random 4 MiB block (stored raw), then compressible blocks. */
function multiBlockBytes(): Uint8Array {
  const out = new Uint8Array(9 << 20);
  out.set(randomBytes(4 << 20, 3));
  out.set(compressibleBytes(5 << 20), 4 << 20);
  return out;
}

const INPUTS: [string, () => Uint8Array][] = [
  ["empty", () => new Uint8Array(0)],
  ["one byte", () => new Uint8Array([7])],
  ["12 bytes (no room for a match)", () => new TextEncoder().encode("aaaaaaaaaaaa")],
  ["random 100 KB", () => randomBytes(100_000, 1)],
  ["compressible 1 MB", () => compressibleBytes(1 << 20)],
  ["multi-block 9 MiB", multiBlockBytes],
];

async function lz4Cli(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const directory = await Deno.makeTempDir({ prefix: "memray-ffi-" });
  try {
    await Deno.writeFile(`${directory}/in`, input);
    const { code, stderr } = await new Deno.Command("/usr/bin/lz4", {
      args: [...args, `${directory}/in`, `${directory}/out`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`lz4 ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
    return await Deno.readFile(`${directory}/out`);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

for (const [name, make] of INPUTS) {
  Deno.test(`FFI LZ4 frame round trip: ${name}`, async () => {
    const input = make();
    const frame = lz4CompressFrame(input);
    assert.equal(lz4FrameContentSize(frame), input.length);
    assert.deepEqual(lz4DecompressFrame(frame), input);
    assert.deepEqual(decodeLz4Frame(frame), input, "lib/lz4/frame.ts decoder");
    assert.deepEqual(await lz4Cli(["-d", "-q", "-f"], frame), input, "/usr/bin/lz4 -d");
  });
}

Deno.test("compressible input shrinks and random input does not grow past the frame overhead", () => {
  const compressible = compressibleBytes(4 << 20);
  assert.ok(lz4CompressFrame(compressible).length < compressible.length / 2);
  const random = randomBytes(1 << 20, 9);
  // Header 15 + one block size word 4 + end mark 4.
  assert.equal(lz4CompressFrame(random).length, random.length + 23);
});

Deno.test("frame header: content size set, independent 4 MiB blocks", () => {
  const frame = lz4CompressFrame(compressibleBytes(5000));
  assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x68, 0x70]);
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(6, true), 5000);
});

Deno.test("FFI decoder reads what the reference lz4 and lz4-wasm frames write", async () => {
  const input = multiBlockBytes();
  // Default: no content size, content checksum. -BD linked blocks, -BX block checksums,
  // --content-size header field, -B4 64 KiB blocks.
  for (const args of [[], ["-BD"], ["-BX", "-B4"], ["--content-size", "-B6"]]) {
    const frame = await lz4Cli(["-z", "-q", "-f", ...args], input);
    assert.deepEqual(lz4DecompressFrame(frame), input, `lz4 ${args.join(" ")}`);
  }
  assert.deepEqual(lz4DecompressFrame(encodeLz4Frame(input)), input, "encodeLz4Frame");
});

Deno.test("FFI decoder reads concatenated and skippable frames", () => {
  const a = compressibleBytes(70_000);
  const b = randomBytes(1000, 5);
  const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const joined = concat([lz4CompressFrame(a), skippable, lz4CompressFrame(b)]);
  assert.equal(lz4FrameContentSize(joined), a.length + b.length);
  assert.deepEqual(lz4DecompressFrame(joined), concat([a, b]));
});

Deno.test("damaged frames and limits are one-line errors", async () => {
  const input = compressibleBytes(100_000);
  const frame = lz4CompressFrame(input);
  const cut = frame.subarray(0, frame.length - 10);
  assert.throws(() => lz4DecompressFrame(cut), (e: Error) => isOneLine(e, /damaged/));
  const flipped = frame.slice();
  flipped[40] ^= 0xff;
  flipped[41] ^= 0xff;
  // A flipped byte may still decode (to wrong data); it must never crash or overrun.
  try {
    assert.notDeepEqual(lz4DecompressFrame(flipped), input);
  } catch (e) {
    assert.ok(isOneLine(e as Error, /Cannot decompress/));
  }
  assert.throws(
    () => lz4DecompressFrame(new TextEncoder().encode("not an lz4 frame")),
    (e: Error) => isOneLine(e, /not an LZ4 frame/),
  );
  assert.throws(
    () => lz4DecompressFrame(frame, { max_output_bytes: 1000 }),
    (e: Error) => isOneLine(e, /more than 1000 bytes/),
  );
  const unsized = await lz4Cli(["-z", "-q", "-f"], input);
  assert.equal(lz4FrameContentSize(unsized), undefined);
  assert.throws(
    () => lz4DecompressFrame(unsized, { max_output_bytes: 1000 }),
    (e: Error) => isOneLine(e, /more than 1000 bytes/),
  );
});

function isOneLine(error: Error, pattern: RegExp): boolean {
  return error instanceof ReportLibError && !error.message.includes("\n") &&
    pattern.test(error.message);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

Deno.test("compressCaptureFile: a missing input is an error, a non-capture goes back to TypeScript", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(
      () => compressCaptureFile(`${dir}/missing.bin`, `${dir}/out.lz4`, { lib }),
      (e) => e instanceof ReportLibError && /cannot be opened, mapped or written/.test(e.message),
    );
    await Deno.writeFile(`${dir}/junk.bin`, compressibleBytes(10_000));
    assert.equal(compressCaptureFile(`${dir}/junk.bin`, `${dir}/out.lz4`, { lib }), undefined);
    assert.equal(await Deno.stat(`${dir}/out.lz4`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lz4DecompressFile: framed files decode, raw ones are left to the caller", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = compressibleBytes(300_000);
    await Deno.writeFile(`${dir}/framed.lz4`, lz4CompressFrame(data, { lib }));
    await Deno.writeFile(`${dir}/raw.bin`, data);
    await Deno.writeFile(`${dir}/empty.bin`, new Uint8Array(0));
    assert.deepEqual(lz4DecompressFile(`${dir}/framed.lz4`, { lib }), data);
    assert.equal(lz4DecompressFile(`${dir}/raw.bin`, { lib }), undefined);
    assert.equal(lz4DecompressFile(`${dir}/empty.bin`, { lib }), undefined);
    assert.throws(
      () => lz4DecompressFile(`${dir}/framed.lz4`, { lib, max_output_bytes: 1000 }),
      (e) => isOneLine(e as Error, /decodes to more than 1000 bytes/),
    );
    assert.throws(
      () => lz4DecompressFile(`${dir}/missing.lz4`, { lib }),
      (e) => isOneLine(e as Error, /cannot be opened/),
    );
    const framed = lz4CompressFrame(data, { lib });
    await Deno.writeFile(`${dir}/damaged.lz4`, framed.subarray(0, framed.length - 20));
    assert.throws(
      () => lz4DecompressFile(`${dir}/damaged.lz4`, { lib }),
      (e) => e instanceof ReportLibError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
