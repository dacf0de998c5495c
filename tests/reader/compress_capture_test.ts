/**
 * `memray run`'s compression step on a real capture: the one native pass
 * (lib/ffi.ts `compressCaptureFile`) writes exactly the bytes of the TypeScript path
 * (`lz4CompressFrame(packCapture(raw))`), which the reference `lz4` tool decodes; files the
 * chunk walk cannot pack alone fall back to that path.
 */
import assert from "node:assert/strict";
import { compressCapture, packCapture } from "../../lib/capture/pack.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { compressCaptureFile, loadReportLib, lz4CompressFrame } from "../../lib/ffi.ts";
import { exists, expectExit, memray, PYTHON, ROOT, withTempDir } from "../integration/helpers.ts";

const lib = await loadReportLib();

/** The TypeScript path's output for these raw bytes. */
function expectedFrame(raw: Uint8Array): Uint8Array {
  return lz4CompressFrame(packCapture(raw), { lib });
}

/** Offset and used bytes of the first chunk holding at least `min_used` bytes. */
function firstChunk(raw: Uint8Array, min_used: number): { offset: number; used: number } {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const header_size = view.getUint32(12, true);
  const chunk_size = view.getUint32(20, true);
  for (let offset = header_size; offset + 24 <= raw.length; offset += chunk_size) {
    const used = view.getUint32(offset, true);
    if (used >= min_used) return { offset, used };
  }
  throw new Error("the capture has no chunk that full");
}

async function lz4Decode(path: string): Promise<Uint8Array> {
  const out = await new Deno.Command("/usr/bin/lz4", { args: ["-d", "-c", path], stderr: "piped" })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

Deno.test("compressing a real capture natively gives the TypeScript path's bytes", async () => {
  await withTempDir(async (dir) => {
    const capture = `${dir}/c.bin`;
    const run = await memray([
      "run",
      "--no-compress",
      "-q",
      "-f",
      "-o",
      capture,
      "--python",
      PYTHON,
      `${ROOT}/bench/workloads/threads.py`,
    ]);
    expectExit(run, 0, "memray run --no-compress");
    const raw = await Deno.readFile(capture);
    const packed = packCapture(raw);
    // Empty chunks and unused tails exist, so the walk has something to drop.
    assert.ok(packed.length < raw.length);
    const expected = expectedFrame(raw);

    const size = compressCaptureFile(capture, `${dir}/native.lz4`, { lib });
    assert.equal(size, expected.length);
    assert.deepEqual(await Deno.readFile(`${dir}/native.lz4`), expected);
    assert.deepEqual(await lz4Decode(`${dir}/native.lz4`), packed);

    // In place, through compressCapture; a second call leaves the frame alone.
    await compressCapture(capture);
    assert.deepEqual(await Deno.readFile(capture), expected);
    await compressCapture(capture);
    assert.deepEqual(await Deno.readFile(capture), expected);
    assert.equal(await exists(`${capture}.lz4.tmp`), false);

    // Cut inside a chunk's records: the native walk declines, the fallback decodes records.
    const { offset, used } = firstChunk(raw, 64);
    const cut = raw.slice(0, offset + 24 + used - 7);
    const cut_path = `${dir}/cut.bin`;
    await Deno.writeFile(cut_path, cut);
    assert.equal(compressCaptureFile(cut_path, `${dir}/cut.lz4`, { lib }), undefined);
    assert.equal(await exists(`${dir}/cut.lz4`), false);
    const cut_expected = expectedFrame(cut);
    await compressCapture(cut_path);
    assert.deepEqual(await Deno.readFile(cut_path), cut_expected);
    assert.deepEqual(await lz4Decode(cut_path), packCapture(cut));

    // A chunk claiming more than it holds: declined natively, refused by the fallback.
    const bad = raw.slice();
    new DataView(bad.buffer).setUint32(offset, 0x7fffffff, true);
    const bad_path = `${dir}/bad.bin`;
    await Deno.writeFile(bad_path, bad);
    assert.equal(compressCaptureFile(bad_path, `${dir}/bad.lz4`, { lib }), undefined);
    await assert.rejects(compressCapture(bad_path), (e) => {
      assert.ok(e instanceof CaptureError);
      assert.match(e.message, /claims 2147483647 used bytes/);
      return true;
    });
    assert.deepEqual(await Deno.readFile(bad_path), bad);
    assert.equal(await exists(`${bad_path}.lz4.tmp`), false);
  });
});
