import { assertEquals } from "../../../tests/support/assert.ts";
import { readCaptureBytes } from "../../../lib/capture/reader.ts";
import { selectSnapshot, type SnapshotOptions } from "../../../lib/analysis/snapshot.ts";
import { LOC, tableCapture } from "../../../tests/html/table_capture.ts";
import { tableRows } from "./common.ts";
import { buildTableData } from "./table_data.ts";

function tableOf(selection: SnapshotOptions) {
  const capture = readCaptureBytes(tableCapture(), "fixture.bin");
  const { records } = selectSnapshot(capture, selection);
  return buildTableData(capture, records, {
    mode: selection.mode,
    merge_threads: selection.merge_threads,
  });
}

Deno.test("table data at the peak, threads merged", async (t) => {
  const data = tableOf({ mode: "high_water_mark", merge_threads: true });
  // make_list's rows of both threads are one row; biggest first. A location's allocator is that
  // of its first allocation (memray's location key has no allocator), so make_list's pymalloc
  // block counts in its malloc row.
  assertEquals(
    tableRows(data).map((r) => [r.location, r.allocator, r.size_bytes, r.n_allocations]),
    [
      [LOC.worker, "malloc", 2_000_000, 1],
      [LOC.make_list, "malloc", 1_324_256, 4],
      [LOC.none, "mmap", 65_536, 1],
      [LOC.make_dict, "pymalloc_malloc", 4_096, 1],
    ],
  );
  assertEquals(data.stats.peak_bytes, 3_393_888);
  await t.assertSnapshot(data);
});

Deno.test("table data with split threads", async (t) => {
  const data = tableOf({ mode: "high_water_mark", merge_threads: false });
  const rows = tableRows(data).filter((r) =>
    r.location === LOC.make_list && r.allocator === "malloc"
  );
  assertEquals(rows.map((r) => [r.thread, r.size_bytes]), [
    ["0x1 (MainThread)", 1_024_256],
    ["0x2 (Worker-1)", 300_000],
  ]);
  await t.assertSnapshot(data);
});

Deno.test("table data of leaks and of temporary allocations", async (t) => {
  const leaks = tableOf({ mode: "leaks", merge_threads: true });
  assertEquals(tableRows(leaks).some((r) => r.location === LOC.worker), false);
  assertEquals(leaks.title, "memray table report (memory leaks)");
  // pymalloc without --trace-python-allocators: the page warns about leaks.
  assertEquals(leaks.notes.length, 1);
  const temporary = tableOf({ mode: "temporary", merge_threads: true, temporary_threshold: 1 });
  // Freed before another allocation of the same thread: make_list's pymalloc block and the
  // worker's block.
  assertEquals(tableRows(temporary).map((r) => [r.location, r.allocator, r.size_bytes]), [
    [LOC.worker, "malloc", 2_000_000],
    [LOC.make_list, "pymalloc_malloc", 512],
  ]);
  await t.assertSnapshot({ leaks: tableRows(leaks), temporary: tableRows(temporary) });
});
