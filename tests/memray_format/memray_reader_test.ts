/**
 * Reads captures that memray 1.20 itself writes (made in the set-up from the scripts in
 * ./scripts) and compares our reports with memray's own numbers. Skipped, with a message, when
 * memray 1.20 is not installed in .tools/memray-venv (`bash bench/install_memray.sh`).
 */
import { readCapture, readCaptureBytes } from "../../lib/capture/reader.ts";
import type { Capture } from "../../lib/capture/reader.ts";
import { isAllocation } from "../../lib/capture/records.ts";
import { computeStatistics } from "../../lib/analysis/stats.ts";
import { statsJson } from "../../reporters/stats.ts";
import { runSummary } from "../../reporters/summary.ts";
import { assert_, assertEquals } from "../support/assert.ts";
import {
  HAVE_MEMRAY,
  MEMRAY_PYTHON,
  memrayCaptures,
  runMemrayPython,
  Spec,
} from "./memray_setup.ts";

if (!HAVE_MEMRAY) {
  console.warn(
    `memray_format tests skipped: memray 1.20.0 not found at ${MEMRAY_PYTHON} ` +
      `(run: bash bench/install_memray.sh)`,
  );
}

const SPECS: Spec[] = [
  { name: "nested", script: "nested.py", flags: [] },
  { name: "nested_raw", script: "nested.py", flags: ["--no-compress"] },
  { name: "nested_native", script: "nested.py", flags: ["--native"] },
  { name: "pyalloc", script: "leak_pyalloc.py", flags: ["--trace-python-allocators"] },
  {
    name: "pyalloc_native_raw",
    script: "leak_pyalloc.py",
    flags: ["--trace-python-allocators", "--native", "--no-compress"],
  },
  { name: "crash", script: "crash.py", flags: [], crash: true },
  { name: "nested_agg", script: "nested.py", flags: ["--aggregate"], aggregated: true },
  {
    name: "pyalloc_agg",
    script: "leak_pyalloc.py",
    flags: ["--aggregate", "--trace-python-allocators"],
    aggregated: true,
  },
];

/** Makes every capture once (in parallel) and returns the directory holding them. */
const captures = memrayCaptures({
  prefix: "memray_format_",
  scripts: ["nested.py", "crash.py", "leak_pyalloc.py"],
  specs: SPECS,
});

async function memrayStats(dir: string, name: string): Promise<Record<string, unknown>> {
  const json = `${dir}/${name}.stats.json`;
  const args = ["-m", "memray", "stats", "--json", "-f", "-o", json, `${name}.bin`];
  const out = await runMemrayPython(args, dir);
  assert_(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(await Deno.readTextFile(json));
}

/** The cells of every row of a rich/our summary table, as sorted text lines. */
function tableRows(text: string): string[] {
  const rows = text.split("\n").filter((l) => l.startsWith("│"))
    .map((l) => l.split("│").slice(1, -1).map((c) => c.trim()).join(" | "));
  return rows.sort();
}

async function memraySummaryRows(dir: string, name: string): Promise<string[]> {
  const out = await runMemrayPython(["-m", "memray", "summary", "-r", "1000", `${name}.bin`], dir, {
    COLUMNS: "1000",
    NO_COLOR: "1",
  });
  assert_(out.success, new TextDecoder().decode(out.stderr));
  return tableRows(new TextDecoder().decode(out.stdout));
}

async function ourSummaryRows(path: string): Promise<string[]> {
  let text = "";
  await runSummary({ capturePath: path, maxRows: 1000, color: false, stdout: (t) => text += t });
  return tableRows(text);
}

/**
 * A top list must match in its values; names must match wherever the value is not tied with
 * another entry (memray orders ties by hash-map order).
 */
function assertTopList(
  ours: Record<string, unknown>[],
  theirs: Record<string, unknown>[],
  key: string,
) {
  assertEquals(ours.map((e) => e[key]), theirs.map((e) => e[key]), `${key} values`);
  const values = theirs.map((e) => e[key]);
  for (let i = 0; i < theirs.length; i++) {
    const tied = values.filter((v) => v === values[i]).length > 1 || i === theirs.length - 1;
    if (!tied) assertEquals(ours[i].location, theirs[i].location, `${key} #${i}`);
  }
}

for (const spec of SPECS.filter((s) => !s.aggregated)) {
  Deno.test({
    name: `memray 1.20 ${spec.name}: stats totals, peak and top locations equal memray's`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      const theirs = await memrayStats(dir, spec.name);
      const capture = await readCapture(`${dir}/${spec.name}.bin`);
      const ours = statsJson(capture, computeStatistics(capture, 5)) as Record<string, never>;
      assertEquals(ours.total_num_allocations, theirs.total_num_allocations);
      assertEquals(ours.total_bytes_allocated, theirs.total_bytes_allocated);
      const md = theirs.metadata as Record<string, unknown>;
      assertEquals((ours.metadata as Record<string, unknown>).peak_memory, md.peak_memory);
      assertEquals(
        (ours.metadata as Record<string, unknown>).total_allocations,
        md.total_allocations,
      );
      assertEquals(ours.allocator_type_distribution, theirs.allocator_type_distribution);
      assertTopList(ours.top_allocations_by_size, theirs.top_allocations_by_size as never, "size");
      assertTopList(
        ours.top_allocations_by_count,
        theirs.top_allocations_by_count as never,
        "count",
      );
      assertEquals(capture.cut_off, spec.crash === true);
      assertEquals(capture.header.finished, spec.crash !== true);
    },
  });
}

// memray's summary of a --native capture shows hybrid (symbolized native + Python) frames; ours
// shows Python frames only (lib/analysis/summary.ts), so those are compared through stats alone.
for (const spec of SPECS.filter((s) => !s.flags.includes("--native"))) {
  Deno.test({
    name: `memray 1.20 ${spec.name}: summary rows equal memray's summary table`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      const theirs = await memraySummaryRows(dir, spec.name);
      const ours = await ourSummaryRows(`${dir}/${spec.name}.bin`);
      assert_(theirs.length > 3, `memray's summary has rows: ${theirs.length}`);
      if (spec.aggregated) {
        // memray re-merging an aggregated file's records of one location (two allocators, or two
        // threads) adds 1 to the count instead of the record's count
        // (AggregatedCaptureReaggregator::getSnapshotAllocations); sizes are summed right.
        const noCount = (rows: string[]) => rows.map((r) => r.replace(/ \| \d+$/, ""));
        assertEquals(noCount(ours), noCount(theirs));
      } else {
        assertEquals(ours, theirs);
      }
    },
  });
}

/** Lines `memray parse` prints for a capture, split into [record, fields]. */
async function memrayParse(dir: string, name: string): Promise<string[]> {
  const out = await runMemrayPython(["-m", "memray", "parse", `${name}.bin`], dir);
  assert_(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}

Deno.test({
  name: "memray 1.20 records: threads, code objects, native frames and maps as memray parses them",
  ignore: !HAVE_MEMRAY,
  async fn() {
    const dir = await captures();
    const lines = await memrayParse(dir, "nested_native");
    const count = (kind: string) =>
      lines.filter((l) => l === kind || l.startsWith(kind + " ")).length;
    const capture = await readCapture(`${dir}/nested_native.bin`);
    assertEquals(capture.events.count, count("ALLOCATION"));
    assertEquals(capture.codes.size, count("CODE_OBJECT"));
    assertEquals(capture.native.frames.ip.length > 0, true);
    const parsed_ips = new Set(
      lines.filter((l) => l.startsWith("NATIVE_FRAME_ID ")).map((l) =>
        Number(/ip=(\S+)/.exec(l)![1])
      ),
    );
    assertEquals(new Set(capture.native.frames.ip), parsed_ips);
    assertEquals(capture.module_maps.length, count("MEMORY_MAP_START"));
    const modules = capture.module_maps.reduce((n, m) => n + m.modules.length, 0);
    assertEquals(modules, count("SEGMENT_HEADER"));
    const segments = capture.module_maps.reduce(
      (n, m) => n + m.modules.reduce((k, mod) => k + mod.segments.length, 0),
      0,
    );
    assertEquals(segments, count("SEGMENT"));
    const names = [...capture.threads.values()].map((t) => t.name).filter((n) => n);
    assertEquals(names, ["worker-1"]);
    // Every allocation has a native stack; deallocations have none.
    for (let i = 0; i < capture.events.count; i++) {
      assertEquals(capture.events.native_stack[i] !== 0, isAllocation(capture.events.kind[i]));
    }
    // Allocation sizes and allocators in file order, as memray parses them.
    const theirs = lines.filter((l) => l.startsWith("ALLOCATION ")).map((l) =>
      `${/size=(\d+)/.exec(l)![1]}:${/allocator=(\S+)/.exec(l)![1]}`
    );
    const ours = Array.from(
      { length: capture.events.count },
      (_, i) => `${capture.events.size[i]}:${kindName(capture, i)}`,
    );
    assertEquals(ours, theirs);
  },
});

function kindName(capture: Capture, i: number): string {
  const names: Record<number, string> = {
    0x01: "malloc",
    0x02: "calloc",
    0x03: "realloc",
    0x04: "posix_memalign",
    0x05: "aligned_alloc",
    0x06: "memalign",
    0x07: "valloc",
    0x08: "pvalloc",
    0x09: "mmap",
    0x0a: "pymalloc_malloc",
    0x0b: "pymalloc_calloc",
    0x0c: "pymalloc_realloc",
    0x11: "free",
    0x12: "munmap",
    0x13: "pymalloc_free",
  };
  return names[capture.events.kind[i]];
}

Deno.test({
  name: "memray 1.20 aggregated: locations carry memray's peak and leak numbers",
  ignore: !HAVE_MEMRAY,
  async fn() {
    const dir = await captures();
    const lines = (await memrayParse(dir, "pyalloc_agg")).filter((l) =>
      l.startsWith("AGGREGATED_ALLOCATION ")
    );
    const capture = await readCapture(`${dir}/pyalloc_agg.bin`);
    assert_(capture.header.aggregated);
    assertEquals(capture.events.count, 0);
    const field = (l: string, k: string) => Number(new RegExp(` ${k}=(\\d+)`).exec(l)![1]);
    assertEquals(
      capture.locations.map((
        l,
      ) => [l.thread_id, l.peak_count, l.leaked_count, l.peak_bytes, l.leaked_bytes]),
      lines.map((l) => [
        field(l, "tid"),
        field(l, "n_allocations_in_high_water_mark"),
        field(l, "n_allocations_leaked"),
        field(l, "bytes_in_high_water_mark"),
        field(l, "bytes_leaked"),
      ]),
    );
  },
});

Deno.test({
  name: "memray 1.20 raw file: zero padding is ignored and any cut reads as a crash",
  ignore: !HAVE_MEMRAY,
  async fn() {
    const dir = await captures();
    const raw = await Deno.readFile(`${dir}/nested_raw.bin`);
    const whole = readCaptureBytes(raw, "nested_raw.bin");
    assertEquals(whole.cut_off, false);
    const padded = new Uint8Array(raw.length + 8192);
    padded.set(raw);
    assertEquals(readCaptureBytes(padded, "padded").events.count, whole.events.count);
    let last_count = -1;
    let data_end = raw.length;
    while (raw[data_end - 1] === 0) data_end--;
    const header_end = 600; // Past the header of this capture (paths included).
    for (let cut = header_end; cut < data_end; cut += 97) {
      const c = readCaptureBytes(raw.subarray(0, cut), `cut at ${cut}`);
      assert_(c.cut_off, `cut at ${cut} is marked cut off`);
      assert_(c.events.count >= last_count, `events never decrease as the cut moves on`);
      for (let i = 0; i < c.events.count; i++) {
        if (
          c.events.size[i] !== whole.events.size[i] || c.events.addr[i] !== whole.events.addr[i]
        ) {
          throw new Error(`cut at ${cut}: event ${i} differs from the whole file's`);
        }
      }
      last_count = c.events.count;
    }
  },
});
