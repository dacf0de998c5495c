/**
 * A fixed fake capture used by reader tests and report snapshots: two threads, a launcher frame,
 * several allocators, a cross-thread free, mmap/munmap, RSS samples and module maps.
 */
import { CaptureEncoder } from "./capture_encoder.ts";
import { FLAG_NATIVE_TRACES } from "../../lib/capture/header.ts";

/** 3.11 location-table entries without columns: each covers one code unit, line += delta. */
export function locationTable(deltas: number[]): Uint8Array {
  const out: number[] = [];
  for (const d of deltas) {
    out.push(0x80 | (13 << 3));
    let v = d >= 0 ? d * 2 : -d * 2 + 1;
    while (v >= 64) {
      out.push((v & 63) | 64);
      v >>>= 6;
    }
    out.push(v);
  }
  return Uint8Array.from(out);
}

export const BOOTSTRAP = "/opt/memray_deno/bootstrap.py";

/** Builds the fixed fake capture (live layout). */
export function buildFakeCapture(options: { chunk_size_bytes?: number } = {}): CaptureEncoder {
  const enc = new CaptureEncoder({
    chunk_size_bytes: options.chunk_size_bytes ?? 4096,
    flags: FLAG_NATIVE_TRACES,
    python_hexversion: 0x030b07f0,
    start_time_ms: 1_700_000_000_000,
    end_time_ms: 1_700_000_002_500,
    pid: 4242,
    metadata: {
      tool: "memray-deno 0.1.0",
      command_line: "app.py --size 3",
      python_version: "3.11.7",
      python_allocator: "pymalloc",
      main_thread_id: 1,
      bootstrap_file: BOOTSTRAP,
      libdest: "/usr/lib/python3.11",
      site_packages: ["/usr/lib/python3.11/site-packages"],
      sys_path: ["/work/app", "/usr/lib/python3.11", "/usr/lib/python3.11/site-packages"],
    },
  });
  const main = enc.thread(1);
  const worker = enc.thread(2);
  main.threadInfo(1001, 0);
  main.code({
    code_id: 1,
    first_line: 1,
    name: "<module>",
    filename: BOOTSTRAP,
    linetable: locationTable([0, 1]),
  });
  main.code({
    code_id: 2,
    first_line: 196,
    name: "_run_module_as_main",
    filename: "/usr/lib/python3.11/runpy.py",
    linetable: locationTable([2]),
  });
  main.code({
    code_id: 3,
    first_line: 1,
    name: "<module>",
    filename: "/work/app/app.py",
    linetable: locationTable([0, 4, 1]),
  });
  main.code({
    code_id: 4,
    first_line: 10,
    name: "build",
    filename: "/work/app/app.py",
    linetable: locationTable([1, 1, 1]),
  });
  worker.code({
    code_id: 5,
    first_line: 20,
    name: "work",
    filename: "/usr/lib/python3.11/site-packages/numpy/core.py",
    linetable: locationTable([0, 3]),
  });
  worker.threadName("worker-1");
  worker.threadInfo(1002, 0);
  main.pyStack(0, [
    { code_id: 1, instr_offset_bytes: 2, is_entry: true },
    { code_id: 2, instr_offset_bytes: 0, is_entry: true },
    { code_id: 3, instr_offset_bytes: 2, is_entry: true },
  ]);
  main.nativeStack(0, [0x401000, 0x401200]);
  const big = 0x7f0000001000;
  main.alloc(0x01, 0x5000, 100); // module level malloc
  main.pyStack(0, [{ code_id: 4, instr_offset_bytes: 2 }]);
  main.nativeStack(0, [0x401300]);
  main.alloc(0x02, 0x6000, 4000); // build: calloc
  main.alloc(0x0a, 0x7000, 32); // build: pymalloc
  worker.pyStack(0, [{ code_id: 5, instr_offset_bytes: 2, is_entry: true }]);
  worker.alloc(0x01, 0x9000, 1_000_000); // worker malloc, freed later by main
  enc.sampler.rss(500, 20_000_000);
  main.alloc(0x09, big, 8192); // build: mmap two pages
  main.free(0x5000); // free the module-level malloc
  main.free(0x9000); // cross-thread free
  main.munmap(big, 4096); // shrink the mapping by one page
  main.pyStack(1, [{ code_id: 4, instr_offset_bytes: 4 }]);
  main.alloc(0x03, 0x8000, 2_000_000); // build line 13: realloc, the peak
  main.free(0x8000, 0x11);
  main.free(0x7000, 0x13); // pymalloc_free
  main.pyStack(1, []);
  main.nativeStack(1, []);
  main.alloc(0x01, 0xa000, 64); // leaked at module level
  enc.sampler.modules(1, [{
    path: "/usr/bin/python3.11",
    load_base: 0x400000,
    build_id: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
    segments: [{ vaddr: 0, memsz: 0x1000 }, { vaddr: 0x1000, memsz: 0x2000 }],
  }]);
  enc.sampler.rss(1500, 25_000_000);
  worker.alloc(0x01, 0xb000, 500); // leaked in worker
  return enc;
}
