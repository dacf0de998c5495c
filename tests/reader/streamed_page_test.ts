/**
 * The HTML pages' streamed path (one native fold: reporters/html/data/streamed_snapshot.ts)
 * against the full reader it replaces for the peak and the leaks: the snapshot's locations, the
 * heap at each RSS sample, the stats panel and the whole flame graph and table pages must come
 * out identical, on the fake capture, captures with RSS samples between the events of several
 * threads (mmap splits, reallocs, missing frees, frees of unknown addresses), packed and
 * compressed ones, and captures cut off at many points.
 */
import { assert_ as assert, assertEquals } from "../support/assert.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { buildFakeCapture, locationTable } from "../support/fake_capture.ts";
import { withFile } from "../support/files.ts";
import { parseHeader } from "../../lib/capture/header.ts";
import { packCapture } from "../../lib/capture/pack.ts";
import { readCapture } from "../../lib/capture/reader.ts";
import * as R from "../../lib/capture/records.ts";
import { encodeLz4Frame } from "../../lib/lz4/frame.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import { StackResolver } from "../../lib/analysis/stack_resolver.ts";
import type { CaptureInfo } from "../../lib/capture/event_scan.ts";
import { rawMemory } from "../../reporters/html/data/page_common.ts";
import { streamedSnapshot } from "../../reporters/html/data/streamed_snapshot.ts";
import { buildTableData } from "../../reporters/html/data/table_data.ts";
import { flamegraphDataOf, flamegraphPageData } from "../../reporters/flamegraph_html.ts";
import { tableDataOf } from "../../reporters/table_html.ts";

/**
 * `n` allocations over `threads` threads with an RSS sample every `rss_every` events, frees of
 * every other block (some of another thread's, some of unknown addresses), reallocs that reuse
 * an address without a free, and mmaps that later munmaps shrink and split.
 */
function sampledCapture(n: number, threads: number, rss_every: number, chunk = 1 << 12) {
  const enc = new CaptureEncoder({ chunk_size_bytes: chunk, python_hexversion: 0x030b07f0 });
  for (let t = 1; t <= threads; t++) {
    const w = enc.thread(t);
    if (t === 2) w.threadName("worker");
    for (let c = 1; c <= 3; c++) {
      w.code({
        code_id: t * 10 + c,
        first_line: c,
        name: `f${c}`,
        filename: `/app/t${t}.py`,
        linetable: locationTable([0, 1, 1]),
      });
    }
  }
  let time_ms = 0;
  for (let i = 0; i < n; i++) {
    const t = enc.thread(1 + (i % threads));
    const tid = 1 + (i % threads);
    if (i % 5 === 0) {
      t.pyStack(i < 5 * threads ? 0 : 1, [{
        code_id: tid * 10 + 1 + (i % 3),
        instr_offset_bytes: 0,
      }]);
    }
    if (i % 97 === 3) {
      t.alloc(R.ALLOC_MMAP, 0x40000000 + 0x100000 * i, 0x10000);
    } else if (i % 97 === 50) {
      const base = 0x40000000 + 0x100000 * (i - 47);
      t.munmap(base + 0x4000, 0x1000); // Splits the mapping made 47 events ago.
    } else if (i % 97 === 90) {
      t.munmap(0x40000000 + 0x100000 * (i - 87), 0x20000); // The rest of it, and past it.
    } else {
      t.alloc(i % 11 === 0 ? 0x03 : R.REC_ALLOC_FIRST, 0x100000 + 64 * (i % 701), 8 + (i % 300));
    }
    if (i % 2 === 1) t.free(0x100000 + 64 * ((i * 7) % 701));
    if (i % 13 === 0) t.free(0xdead000 + i); // Unknown: ignored.
    if (i % rss_every === 0) enc.sampler.rss(time_ms += 10, 1_000_000 + 4096 * i);
  }
  enc.sampler.rss(time_ms += 10, 9_000_000);
  return enc.finish();
}

const captures: [string, () => Uint8Array][] = [
  ["the fake capture", () => buildFakeCapture().finish()],
  ["the fake capture, small chunks", () => buildFakeCapture({ chunk_size_bytes: 256 }).finish()],
  ["three threads, samples every 7 events", () => sampledCapture(3000, 3, 7)],
  ["one thread, samples every event", () => sampledCapture(800, 1, 1, 1 << 16)],
  ["two threads, packed", () => packCapture(sampledCapture(2000, 2, 3), "p.bin")],
  ["two threads, compressed", () => encodeLz4Frame(sampledCapture(2000, 2, 5))],
  ["no events", () => {
    const enc = new CaptureEncoder();
    enc.sampler.rss(5, 100);
    return enc.finish();
  }],
];

/** Records with their stacks as frame texts instead of node ids. */
function resolved(capture: CaptureInfo, records: LocationRecord[]): unknown[] {
  const stacks = StackResolver.python(capture);
  return records.map((r) => ({
    ...r,
    py_stack: stacks.frames(r.py_stack, r.native_stack, r.thread_id)
      .map((f) => `${f.function} ${f.file}:${f.line}`),
  }));
}

/** Both paths of every mode the streamed path serves; asserts they agree. */
async function assertSamePages(path: string, name: string): Promise<void> {
  const full = await readCapture(path);
  for (const leaks of [false, true]) {
    for (const merge_threads of [true, false]) {
      const what = `${name}, leaks ${leaks}, merged ${merge_threads}`;
      const streamed = await streamedSnapshot(path, { leaks, merge_threads, progress: false });
      assert(streamed !== undefined, `${what}: the streamed path refused the capture`);
      const mode = leaks ? "leaks" : "high_water_mark";
      // The full reader interns stacks in file order, the fold in seq order: compare frames.
      assertEquals(
        resolved(streamed.capture, streamed.records),
        resolved(full, selectSnapshot(full, { mode, merge_threads }).records),
        what,
      );
      assertEquals(streamed.raw, rawMemory(full), what);
      assertEquals(streamed.event_count, full.events.count, what);
      const options = { capturePath: path, leaks, splitThreads: !merge_threads };
      assertEquals(
        await flamegraphDataOf({ ...options, maxMemoryRecords: 50 }),
        flamegraphPageData(full, { ...options, maxMemoryRecords: 50 }),
        what,
      );
      assertEquals(
        await tableDataOf(options),
        buildTableData(full, selectSnapshot(full, { mode, merge_threads }).records, {
          mode,
          merge_threads,
        }),
        what,
      );
    }
  }
}

for (const [name, make] of captures) {
  Deno.test(`streamed HTML pages equal the full reader's: ${name}`, async () => {
    await withFile(make(), (path) => assertSamePages(path, name));
  });
}

Deno.test("streamed HTML pages: captures cut off anywhere equal the full reader's", async () => {
  const bytes = sampledCapture(600, 2, 4, 1 << 10);
  const header = parseHeader(bytes, "c.bin");
  let compared = 0;
  for (let n = header.header_size_bytes; n <= bytes.length; n += 211) {
    const cut = bytes.slice(0, n);
    await withFile(cut, async (path) => {
      let full_error: string | undefined;
      try {
        await readCapture(path);
      } catch (e) {
        full_error = (e as Error).message;
      }
      if (full_error !== undefined) {
        // The streamed path leaves such a capture to the full reader.
        assertEquals(
          await streamedSnapshot(path, { leaks: false, merge_threads: true }),
          undefined,
        );
        return;
      }
      await assertSamePages(path, `cut at ${n}`);
      compared++;
    });
  }
  assert(compared > 5, "too few cut captures were readable");
});
