/**
 * A fixed capture for the table report's tests: two named threads sharing a location, three
 * allocators (malloc, pymalloc, mmap), an allocation without a Python stack ("???"), RSS samples,
 * a freed block after the peak (leaks differ from the peak) and a temporary allocation.
 */
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { locationTable } from "../support/fake_capture.ts";
import { SAMPLER_THREAD_ID } from "../../lib/capture/header.ts";

const MALLOC = 0x01;
const MMAP = 0x09;
const PYMALLOC_MALLOC = 0x0a;
const PYMALLOC_FREE = 0x13;

/** Code ids of the fixture's functions, each at its first line in /app/app.py. */
const CODES: [id: number, name: string, line: number][] = [
  [1, "<module>", 1],
  [2, "make_list", 10],
  [3, "make_dict", 20],
  [4, "worker", 30],
];

/** Locations the table shows for the fixture. */
export const LOC = {
  make_list: "make_list at /app/app.py:10",
  make_dict: "make_dict at /app/app.py:20",
  worker: "worker at /app/app.py:30",
  none: "???",
};

const frame = (code_id: number) => ({ code_id, instr_offset_bytes: 0, is_entry: true });

/** Encodes the fixture capture. */
export function tableCapture(): Uint8Array {
  const enc = new CaptureEncoder({
    python_hexversion: 0x030b07f0,
    start_time_ms: 1_700_000_000_000,
    end_time_ms: 1_700_000_002_000,
    pid: 4242,
    metadata: {
      command_line: "app.py --fixture",
      python_version: "3.11.7",
      python_allocator: "pymalloc",
      main_thread_id: 1,
    },
  });
  const main = enc.thread(1);
  const worker = enc.thread(2);
  const sampler = enc.thread(SAMPLER_THREAD_ID);
  main.threadName("MainThread");
  worker.threadName("Worker-1");
  for (const [code_id, name, line] of CODES) {
    main.code({
      code_id,
      first_line: line,
      name,
      filename: "/app/app.py",
      linetable: locationTable([0]),
    });
  }
  sampler.rss(0, 10_000_000);
  main.pyStack(0, [frame(1), frame(2)]); // <module> -> make_list
  main.alloc(MALLOC, 0x1000, 1_000_000);
  main.alloc(MALLOC, 0x2000, 24_000);
  main.alloc(PYMALLOC_MALLOC, 0x3000, 512);
  main.free(0x3000, PYMALLOC_FREE); // temporary: freed right after
  main.alloc(PYMALLOC_MALLOC, 0x3100, 256);
  sampler.rss(500, 12_000_000);
  worker.pyStack(0, [frame(2)]); // make_list on the worker thread, too
  worker.alloc(MALLOC, 0x4000, 300_000);
  worker.pyStack(1, [frame(4)]);
  worker.alloc(MALLOC, 0x5000, 2_000_000);
  main.pyStack(1, [frame(3)]); // <module> -> make_dict
  main.alloc(PYMALLOC_MALLOC, 0x6000, 4_096);
  main.pyStack(2, []); // no Python frames
  main.alloc(MMAP, 0x100000, 65_536);
  sampler.rss(1000, 15_000_000);
  // After the peak: the worker's big block is freed, so leaks differ from the peak.
  worker.free(0x5000);
  sampler.rss(1500, 13_000_000);
  return enc.finish();
}

/** Writes the fixture into a new temp directory; returns the capture's path. */
export async function writeTableCapture(name = "memray-fixture.bin"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "memray-table-" });
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, tableCapture());
  return path;
}
