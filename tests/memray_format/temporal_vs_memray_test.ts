/**
 * Temporal mode and the snapshot modes, record for record against memray 1.20's FileReader: a
 * script tracked by memray's own Tracker (5 ms RSS samples, churn, a split and a shrunk mapping,
 * three threads with the same stack, leaks) is read by memray and by us, threads merged and split,
 * with and without a memory-record stride. Skipped when memray 1.20 is not installed.
 */
import { readCapture } from "../../lib/capture/reader.ts";
import { ALLOCATOR_NAMES } from "../../lib/capture/records.ts";
import { selectSnapshot, SnapshotMode } from "../../lib/analysis/snapshot.ts";
import {
  memorySnapshots,
  temporalAllocations,
  TemporalData,
  temporalHighWaterMark,
} from "../../lib/analysis/temporal.ts";
import { assertEquals } from "../support/assert.ts";
import { HAVE_MEMRAY, runMemrayPython } from "./memray_setup.ts";

const MAKE = `import json, sys, threading, time, mmap
import memray
from memray._test import MemoryAllocator, MmapAllocator

out = sys.argv[1]
def phase_a(keep):
    for i in range(50):
        a = MemoryAllocator(); a.valloc(1000 + i); keep.append(a)
def churn():
    for i in range(200):
        a = MemoryAllocator(); a.valloc(4096); a.free()
def worker(keep):
    for i in range(30):
        a = MemoryAllocator(); a.malloc(3000); keep.append(a)
        time.sleep(0.001)
    for a in keep[:10]: a.free()

with memray.Tracker(out, memory_interval_ms=5, native_traces=False, trace_python_allocators=True):
    keep = []
    phase_a(keep)
    time.sleep(0.03)
    churn()
    m = MmapAllocator(4 * 4096)
    time.sleep(0.02)
    m.munmap(4096, 4096)  # middle page: split
    time.sleep(0.02)
    m2 = MmapAllocator(3 * 4096)
    m2.munmap(4096, 0)
    time.sleep(0.02)
    wk = []
    ts = [threading.Thread(target=worker, args=([],)) for _ in range(3)]
    for t in ts: t.start()
    for t in ts: t.join()
    for a in keep[:25]: a.free()
    time.sleep(0.03)
    big = MemoryAllocator(); big.valloc(500000)
    time.sleep(0.02)
    big.free()
    for a in keep[25:40]: a.free()
    time.sleep(0.02)
    z = MemoryAllocator(); z.malloc(7)
`;

const DUMP = `import json, sys
import memray
from memray import FileReader
r = FileReader(sys.argv[1])
def st(rec): return [list(f) for f in rec.stack_trace()]
def temporal(recs):
    out = []
    for x in recs:
        out.append({"tid": x.tid, "allocator": memray.AllocatorType(x.allocator).name, "stack": st(x),
                    "intervals": [[i.allocated_before_snapshot, i.deallocated_before_snapshot, i.n_allocations, i.n_bytes] for i in x.intervals]})
    return out
def snap(recs):
    return [{"tid": x.tid, "allocator": memray.AllocatorType(x.allocator).name, "stack": st(x), "size": x.size, "n": x.n_allocations} for x in recs]
res = {"snapshots": [[s.time, s.rss, s.heap] for s in r.get_memory_snapshots()]}
for merge in (True, False):
    k = "merged" if merge else "split"
    res["temporal_" + k] = temporal(r.get_temporal_allocation_records(merge_threads=merge))
    recs, hwm = r.get_temporal_high_water_mark_allocation_records(merge_threads=merge)
    res["thwm_" + k] = temporal(recs); res["hwm_bytes_" + k] = list(hwm)
    res["peak_" + k] = snap(r.get_high_watermark_allocation_records(merge_threads=merge))
    res["leaks_" + k] = snap(r.get_leaked_allocation_records(merge_threads=merge))
    for th in (0, 1, 3):
        res[f"temp{th}_" + k] = snap(r.get_temporary_allocation_records(merge_threads=merge, threshold=th))
r2 = FileReader(sys.argv[1], max_memory_records=10)
res["snapshots10"] = [[s.time, s.rss, s.heap] for s in r2.get_memory_snapshots()]
res["temporal10"] = temporal(r2.get_temporal_allocation_records(merge_threads=True))
recs, hwm = r2.get_temporal_high_water_mark_allocation_records(merge_threads=True)
res["thwm10"] = temporal(recs); res["hwm_bytes10"] = list(hwm)
res["peak_memory"] = r.metadata.peak_memory
json.dump(res, open(sys.argv[2], "w"))
`;

Deno.test({
  name: "temporal and snapshot modes match memray 1.20 on a real capture",
  ignore: !HAVE_MEMRAY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "memray-temporal-" });
    try {
      await Deno.writeTextFile(`${dir}/make.py`, MAKE);
      await Deno.writeTextFile(`${dir}/dump.py`, DUMP);
      for (const args of [["make.py", "t.bin"], ["dump.py", "t.bin", "t.json"]]) {
        const out = await runMemrayPython(args, dir);
        if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
      }
      const m = JSON.parse(await Deno.readTextFile(`${dir}/t.json`));
      const c = await readCapture(`${dir}/t.bin`);
      const stack = (py: number, tid: number) =>
        c.python.frames(py, tid === c.main_thread_id).map((
          f,
        ) => [f.function, f.filename, f.lineno]);
      const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
      const temporal = (d: TemporalData) =>
        d.locations.map((l) => ({
          tid: l.thread_id,
          allocator: ALLOCATOR_NAMES[l.allocator],
          stack: stack(l.py_stack, l.thread_id),
          intervals: l.intervals.map((i) => [
            i.allocated_before_snapshot,
            i.deallocated_before_snapshot,
            i.n_allocations,
            i.n_bytes,
          ]),
        }));
      const snaps = memorySnapshots(c).map((s) => [s.time_ms, s.rss_bytes, s.heap_bytes]);
      assertEquals(snaps, m.snapshots);
      for (const merge of [true, false]) {
        const k = merge ? "merged" : "split";
        const o = { merge_threads: merge };
        assertEquals(sorted(temporal(temporalAllocations(c, o))), sorted(m[`temporal_${k}`]), k);
        const hwm = temporalHighWaterMark(c, o);
        assertEquals(sorted(temporal(hwm)), sorted(m[`thwm_${k}`]), k);
        assertEquals(hwm.hwm_bytes_by_snapshot, m[`hwm_bytes_${k}`]);
        const records = (mode: SnapshotMode, threshold?: number) =>
          selectSnapshot(c, { mode, merge_threads: merge, temporary_threshold: threshold })
            .records.map((r) => ({
              tid: merge ? 0 : r.thread_id,
              allocator: ALLOCATOR_NAMES[r.allocator],
              stack: stack(r.py_stack, r.thread_id),
              size: r.size_bytes,
              n: r.count,
            }));
        // memray keeps one arbitrary thread on merged records.
        const theirs = (key: string) =>
          sorted(m[key].map((x: { tid: number }) => ({ ...x, tid: merge ? 0 : x.tid })));
        assertEquals(sorted(records("high_water_mark")), theirs(`peak_${k}`), `peak ${k}`);
        assertEquals(sorted(records("leaks")), theirs(`leaks_${k}`), `leaks ${k}`);
        for (const t of [0, 1, 3]) {
          assertEquals(sorted(records("temporary", t)), theirs(`temp${t}_${k}`), `temp${t} ${k}`);
        }
      }
      const strided = { merge_threads: true, max_memory_records: 10 };
      const snaps10 = memorySnapshots(c, strided).map((
        s,
      ) => [s.time_ms, s.rss_bytes, s.heap_bytes]);
      assertEquals(snaps10, m.snapshots10);
      assertEquals(sorted(temporal(temporalAllocations(c, strided))), sorted(m.temporal10));
      const hwm10 = temporalHighWaterMark(c, strided);
      assertEquals(sorted(temporal(hwm10)), sorted(m.thwm10));
      assertEquals(hwm10.hwm_bytes_by_snapshot, m.hwm_bytes10);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
