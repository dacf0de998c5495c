/**
 * `stats` and the peak snapshot of memray 1.20 captures through the native fold
 * (lib/memray_format/fold.ts, native/report/memray_fold.zig) and through the TypeScript scan
 * (lib/memray_format/scan.ts) against the full reader: the same
 * statistics, the same snapshot (same stack node ids) and the same capture info, on captures
 * memray itself writes (compressed or raw, native traces or not, cut off by a crash). Skipped
 * when memray 1.20 or the report library is missing.
 */
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import type { Capture } from "../../lib/capture/reader.ts";
import type { CaptureInfo } from "../../lib/capture/event_scan.ts";
import { CaptureError } from "../../lib/capture/errors.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";
import { computeStatistics } from "../../lib/analysis/stats.ts";
import { streamPeakSnapshot, streamStatistics } from "../../lib/analysis/streaming.ts";
import { loadReportLib, lz4DecompressFile } from "../../lib/ffi.ts";
import { foldMemrayCapture } from "../../lib/memray_format/fold.ts";
import { dataEnd } from "../../lib/memray_format/reader.ts";
import { assert_, assertEquals, assertRejects } from "../support/assert.ts";
import { HAVE_MEMRAY, memrayCaptures, Spec } from "./memray_setup.ts";

const lib = await loadReportLib().catch(() => undefined);
const ignore = !HAVE_MEMRAY || lib === undefined;
if (HAVE_MEMRAY && lib === undefined) {
  console.warn("memray fold tests skipped: the report library is not built (zig build)");
}

const SPECS: Spec[] = [
  { name: "nested", script: "nested.py", flags: [] },
  { name: "nested_raw", script: "nested.py", flags: ["--no-compress"] },
  { name: "nested_native", script: "nested.py", flags: ["--native"] },
  {
    name: "pyalloc_native_raw",
    script: "leak_pyalloc.py",
    flags: ["--trace-python-allocators", "--native", "--no-compress"],
  },
  { name: "crash", script: "crash.py", flags: [], crash: true },
  { name: "agg", script: "nested.py", flags: ["--aggregate"], aggregated: true },
];

const captures = memrayCaptures({
  prefix: "memray_fold_",
  scripts: ["nested.py", "crash.py", "leak_pyalloc.py"],
  specs: SPECS,
});

/** What a report reads of a capture besides its stacks (which the snapshots compare). */
function infoOf(c: CaptureInfo | Capture) {
  return {
    header: c.header,
    compressed: c.compressed,
    cut_off: c.cut_off,
    codes: c.codes,
    threads: c.threads,
    rss: c.rss,
    module_maps: c.module_maps,
    main_thread_id: c.main_thread_id,
    py_nodes: c.python.tree.count,
    native_nodes: c.native.tree.count,
  };
}

/**
 * Asserts the streamed stats and peaks of the file at `path` equal the full reader's, through
 * the native fold and through the TypeScript scan (lib/memray_format/scan.ts).
 */
async function assertLikeFullReader(path: string): Promise<void> {
  for (const native of [true, false]) await assertStreamedLikeFull(path, native);
}

async function assertStreamedLikeFull(path: string, native: boolean): Promise<void> {
  const full = readCaptureBytes(await Deno.readFile(path), path);
  const streamed = await streamStatistics(path, 10, { progress: false, native });
  // Aggregated captures have no statistics (the `stats` report refuses them).
  const expected_stats = full.header.aggregated ? undefined : computeStatistics(full, 10);
  assertEquals(streamed.stats, expected_stats, `${path}: stats`);
  assertEquals(infoOf(streamed.capture), infoOf(full), `${path}: capture info`);
  for (const merge_threads of [true, false]) {
    const peak = await streamPeakSnapshot(path, { merge_threads, progress: false, native });
    const expected = selectSnapshot(full, { mode: "high_water_mark", merge_threads });
    // Stack node ids are interned in stream order by both: equal records, not just equal names.
    assertEquals(peak.snapshot, expected, `${path}: peak (merge_threads ${merge_threads})`);
    assertEquals(
      peak.snapshot.records.map((r) => peak.capture.python.frames(r.py_stack, true)),
      expected.records.map((r) => full.python.frames(r.py_stack, true)),
    );
  }
}

/** The decompressed bytes of a memray capture file. */
function bytesOf(path: string): { bytes: Uint8Array; compressed: boolean } {
  const bytes = lz4DecompressFile(path, { lib });
  return bytes === undefined
    ? { bytes: Deno.readFileSync(path), compressed: false }
    : { bytes, compressed: true };
}

Deno.test({
  name: "memray 1.20 fold: stats and the peak equal the full reader's on memray's captures",
  ignore,
  async fn() {
    const dir = await captures();
    for (const s of SPECS) {
      const path = `${dir}/${s.name}.bin`;
      const { bytes, compressed } = bytesOf(path);
      const folded = await foldMemrayCapture(bytes, path, {
        lib: lib!,
        merge_threads: true,
        compressed,
      });
      // The native fold must take every ALL_ALLOCATIONS capture, not fall back to the reader.
      assertEquals(folded === undefined, s.aggregated === true, `${s.name}: folded natively`);
      if (folded !== undefined) assertEquals(folded.capture.cut_off, s.crash === true);
      await assertLikeFullReader(path);
    }
  },
});

Deno.test({
  name: "memray 1.20 fold: a raw capture cut anywhere reads as the full reader reads it",
  ignore,
  async fn() {
    const dir = await captures();
    const raw = await Deno.readFile(`${dir}/pyalloc_native_raw.bin`);
    const end = dataEnd(raw);
    const cut_path = `${dir}/cut.bin`;
    const step = Math.max(1, Math.floor(end / 23));
    for (let cut = 700; cut < end; cut += step) {
      await Deno.writeFile(cut_path, raw.subarray(0, cut));
      const { bytes } = bytesOf(cut_path);
      const folded = await foldMemrayCapture(bytes, cut_path, {
        lib: lib!,
        merge_threads: true,
        compressed: false,
      });
      assert_(folded !== undefined && folded.capture.cut_off, `cut at ${cut}: folded, cut off`);
      await assertLikeFullReader(cut_path);
    }
  },
});

Deno.test({
  name: "memray 1.20 fold: a corrupt record falls back to the reader, which names it",
  ignore,
  async fn() {
    const dir = await captures();
    const raw = await Deno.readFile(`${dir}/nested_raw.bin`);
    const end = dataEnd(raw);
    // The trailer becomes an unknown record type (0x0f).
    const bad = raw.slice(0, end);
    assertEquals(bad[end - 1], 1);
    bad[end - 1] = 0x0f;
    const path = `${dir}/bad.bin`;
    await Deno.writeFile(path, bad);
    const folded = await foldMemrayCapture(bad, path, {
      lib: lib!,
      merge_threads: true,
      compressed: false,
    });
    assertEquals(folded, undefined);
    const expected = (() => {
      try {
        readCaptureBytes(bad, path);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("the reader accepted a corrupt capture");
    })();
    assert_(expected.includes("unknown memray record type 0x0f"), expected);
    for (const native of [true, false]) {
      await assertRejects(
        () => streamStatistics(path, 5, { progress: false, native }),
        CaptureError,
        expected,
      );
      await assertRejects(
        () => streamPeakSnapshot(path, { merge_threads: true, progress: false, native }),
        CaptureError,
        expected,
      );
    }
  },
});
