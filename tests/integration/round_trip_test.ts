/**
 * Round trip of every record type: a program run with `--native --trace-python-allocators` that
 * names a thread, allocates through each Python allocator domain, maps and unmaps memory and
 * sleeps long enough for RSS samples; the reader must see each record kind with values that
 * agree with what the program itself observed.
 */
import assert from "node:assert/strict";
import { type Capture } from "../../lib/capture/reader.ts";
import {
  allocations,
  allocationsOfSize,
  blockFrees,
  type Event,
  expectExit,
  factsOf,
  frameLines,
  helperEnv,
  helperLibrary,
  KIND,
  lineOf,
  memray,
  PRELUDE,
  read,
  withTempDir,
} from "./helpers.ts";

const INTERPRETERS = [
  "/root/.pyenv/versions/3.9.18/bin/python3.9",
  "/root/.pyenv/versions/3.12.1/bin/python3.12",
  "/root/.pyenv/versions/3.13.0/bin/python3.13",
  "/usr/bin/python3.11", // libpython linked statically into the executable
];

const SIZES = {
  thread_malloc: 7001,
  mmap: 40001,
  py_raw: 4441,
  py_mem: 5551,
  py_calloc_n: 3,
  py_calloc_each: 1111,
  py_realloc: 6661,
  py_object: 2221,
  pthread_malloc: 7771,
};

const SOURCE = `${PRELUDE}
import threading, time
api = ctypes.pythonapi
for _name in ("PyMem_RawMalloc", "PyMem_Malloc", "PyObject_Malloc"):
    getattr(api, _name).restype = vp
    getattr(api, _name).argtypes = [ctypes.c_size_t]
api.PyMem_Calloc.restype = vp
api.PyMem_Calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
api.PyMem_Realloc.restype = vp
api.PyMem_Realloc.argtypes = [vp, ctypes.c_size_t]
for _name in ("PyMem_RawFree", "PyMem_Free", "PyObject_Free"):
    getattr(api, _name).argtypes = [vp]
facts = {"pid": os.getpid(), "hexversion": sys.hexversion, "executable": sys.executable}

def worker():
    facts["worker_tid"] = threading.get_native_id()
    p = lib.h_malloc(${SIZES.thread_malloc})  # LINE:worker
    facts["thread_malloc"] = p
    lib.h_free(p)

thread = threading.Thread(target=worker, name="round-trip-worker")
thread.start()
thread.join()

m = lib.h_mmap(${SIZES.mmap})  # LINE:mmap
facts["mmap"] = m
lib.h_munmap(m, ${SIZES.mmap})
r = api.PyMem_RawMalloc(${SIZES.py_raw})  # LINE:raw
api.PyMem_RawFree(r)
p = api.PyMem_Malloc(${SIZES.py_mem})  # LINE:mem
q = api.PyMem_Realloc(p, ${SIZES.py_realloc})  # LINE:realloc
api.PyMem_Free(q)
c = api.PyMem_Calloc(${SIZES.py_calloc_n}, ${SIZES.py_calloc_each})  # LINE:calloc
api.PyMem_Free(c)
o = api.PyObject_Malloc(${SIZES.py_object})  # LINE:object
api.PyObject_Free(o)
facts["pthread"] = lib.h_malloc_in_pthread(${SIZES.pthread_malloc})
facts.update(raw=r, mem=p, realloc=q, calloc=c, object=o)
time.sleep(0.08)
emit(**facts)
`;

interface Facts {
  pid: number;
  hexversion: number;
  executable: string;
  worker_tid: number;
  thread_malloc: number;
  mmap: number;
  raw: number;
  mem: number;
  realloc: number;
  calloc: number;
  object: number;
  pthread: number;
}

/** The single allocation of `kind` and `size`, checked against its address and line. */
function single(capture: Capture, kind: number, size: number, addr: number, line: number) {
  const found = allocations(capture, kind, size);
  assert.equal(found.length, 1, `${found.length} records of kind ${kind} size ${size}`);
  assert.equal(found[0].addr, addr, `kind ${kind} size ${size}: address`);
  assert.equal(found[0].frames[0]?.lineno, line, `kind ${kind} size ${size}: line`);
  // pymalloc records are not counted twice by the raw allocator underneath.
  assert.equal(allocationsOfSize(capture, size).length, 1, `size ${size} seen once`);
  return found[0];
}

/** The native frames (instruction pointers) of an event's native stack, innermost first. */
function nativeIps(capture: Capture, node: number): number[] {
  return capture.native.tree.frames(node).map((f) => capture.native.frames.ip[f]);
}

async function checkRoundTrip(python: string): Promise<void> {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/all.py`, SOURCE);
    const result = await memray([
      "run",
      "-q",
      "--native",
      "--trace-python-allocators",
      "--no-compress",
      "-o",
      `${dir}/out.bin`,
      "--python",
      python,
      "all.py",
    ], { cwd: dir, env: await helperEnv() });
    expectExit(result, 0, `memray run --python ${python}`);
    const facts = factsOf(result)[0] as unknown as Facts;
    const capture = await read(`${dir}/out.bin`);
    const line = (marker: string) => lineOf(SOURCE, `# LINE:${marker}`);

    // Header and metadata.
    const h = capture.header;
    assert.equal(h.native_traces, true, "native_traces flag");
    assert.equal(h.trace_python_allocators, true, "trace_python_allocators flag");
    assert.equal(h.finished, true);
    assert.equal(h.pid, facts.pid);
    assert.equal(h.python_hexversion, facts.hexversion);
    assert.ok(h.start_time_ms > 0 && h.start_time_ms <= h.end_time_ms, "start <= end");
    assert.ok(h.end_time_ms - h.start_time_ms >= 80, "the run lasted the sleep");
    assert.equal(h.metadata.python_executable, facts.executable);
    assert.equal(h.metadata.command_line, "all.py");
    const e = capture.events;
    assert.ok(e.count > 0 && e.seq[e.count - 1] <= h.seq_end, "seq_end covers every event");

    // THREAD_INFO and THREAD_NAME.
    const main = capture.threads.get(capture.main_thread_id)!;
    assert.equal(main.os_tid, facts.pid, "main thread's os tid is the pid");
    assert.equal(main.origin, 0);
    const worker_alloc = single(
      capture,
      KIND.malloc,
      SIZES.thread_malloc,
      facts.thread_malloc,
      line("worker"),
    );
    const worker = capture.threads.get(worker_alloc.thread)!;
    assert.notEqual(worker.thread_id, capture.main_thread_id);
    assert.equal(worker.name, "round-trip-worker");
    assert.equal(worker.os_tid, facts.worker_tid);
    assert.equal(worker_alloc.frames[0].function, "worker");
    assert.equal(blockFrees(capture, worker_alloc).length, 1, "the worker's free");

    // CODE and PY_STACK: names and files of the script's frames.
    const script_codes = [...capture.codes.values()].filter((c) => c.filename === `${dir}/all.py`);
    assert.deepEqual(script_codes.map((c) => c.name).sort(), ["<module>", "emit", "worker"]);
    assert.equal(script_codes.find((c) => c.name === "worker")!.qualname, "worker");

    // MMAP and MUNMAP.
    const mapping = single(capture, KIND.mmap, SIZES.mmap, facts.mmap, line("mmap"));
    const unmaps = blockFrees(capture, mapping, KIND.munmap);
    assert.equal(unmaps.length, 1, "one munmap");
    assert.equal(unmaps[0].size, SIZES.mmap);

    // PYMALLOC_* in each domain, with PYMALLOC_FREE at the same addresses.
    const pyfree = (alloc: Event) => blockFrees(capture, alloc, KIND.pymalloc_free).length;
    const raw = single(capture, KIND.pymalloc_malloc, SIZES.py_raw, facts.raw, line("raw"));
    assert.equal(pyfree(raw), 1, "raw domain free");
    const mem = single(capture, KIND.pymalloc_malloc, SIZES.py_mem, facts.mem, line("mem"));
    const realloc = single(
      capture,
      KIND.pymalloc_realloc,
      SIZES.py_realloc,
      facts.realloc,
      line("realloc"),
    );
    const old_free = blockFrees(capture, mem, KIND.pymalloc_free)[0];
    assert.ok(old_free !== undefined && old_free.seq < realloc.seq, "realloc frees the old block");
    assert.equal(pyfree(realloc), 1, "free after realloc");
    const calloc_size = SIZES.py_calloc_n * SIZES.py_calloc_each;
    const calloc = single(capture, KIND.pymalloc_calloc, calloc_size, facts.calloc, line("calloc"));
    assert.equal(pyfree(calloc), 1, "calloc free");
    const object = single(
      capture,
      KIND.pymalloc_malloc,
      SIZES.py_object,
      facts.object,
      line("object"),
    );
    assert.equal(pyfree(object), 1, "object domain free");

    // RSS samples: positive, in time order, within the run.
    assert.ok(capture.rss.length >= 3, `${capture.rss.length} RSS samples in a run of >80 ms`);
    let last = -1;
    for (const sample of capture.rss) {
      assert.ok(sample.rss_bytes > 1 << 20, `RSS ${sample.rss_bytes} bytes`);
      assert.ok(sample.time_offset_ms >= last, "RSS samples in time order");
      assert.ok(sample.time_offset_ms <= h.end_time_ms - h.start_time_ms + 1);
      last = sample.time_offset_ms;
    }

    // MODULES and NATIVE_STACK: the helper library is mapped, and the innermost native frame of
    // its allocation (the allocating function's caller) lies in the helper's code.
    assert.ok(capture.module_maps.length >= 1, "MODULES records");
    const latest = capture.module_maps[capture.module_maps.length - 1];
    const helper = latest.modules.find((m) => m.path === helperPath);
    assert.ok(helper !== undefined, `the helper is in the last MODULES generation`);
    assert.ok(
      latest.modules.some((m) => m.path.includes("libc.so")),
      "libc is in the module maps",
    );
    const inHelper = (ip: number) =>
      helper.segments.some((s) =>
        ip >= helper.load_base + s.vaddr && ip < helper.load_base + s.vaddr + s.memsz
      );
    for (const event of [worker_alloc, mapping]) {
      assert.notEqual(event.native_stack, 0, "the allocation has a native stack");
      const ips = nativeIps(capture, event.native_stack);
      assert.ok(ips.length >= 3, `native stack depth ${ips.length}`);
      assert.ok(inHelper(ips[0]), `innermost ip 0x${ips[0].toString(16)} is in the helper`);
    }
    // A Python-allocator record's native stack goes through the interpreter, not the helper.
    assert.notEqual(raw.native_stack, 0);
    assert.deepEqual(frameLines(raw.frames), [`<module>:${line("raw")}`]);

    // A thread without Python: named by prctl, no Python stack, a native stack through the helper.
    const [c_alloc] = allocations(capture, KIND.malloc, SIZES.pthread_malloc);
    assert.equal(c_alloc?.addr, facts.pthread, "the pthread's allocation");
    const c_thread = capture.threads.get(c_alloc.thread)!;
    assert.equal(c_thread.name, "c-worker", "prctl(PR_SET_NAME) names the thread");
    assert.equal(c_thread.origin, 1, "THREAD_INFO origin of a thread without Python");
    assert.deepEqual(c_alloc.frames, [], "no Python frames on a pthread");
    assert.ok(inHelper(nativeIps(capture, c_alloc.native_stack)[0]), "pthread's native stack");
    assert.equal(blockFrees(capture, c_alloc).length, 1, "the pthread's free");

    // Last, as the engine decides it at the thread's first record: a threading.Thread is a
    // Python thread (THREAD_INFO origin 0), though its first allocations precede its tstate.
    assert.equal(worker.origin, 0, "THREAD_INFO origin of a threading.Thread");
  });
}

const helperPath = await helperLibrary();

const runs = new Map<string, Promise<void>>();
for (const python of INTERPRETERS) {
  Deno.test({
    name: `every record type round-trips: ${python}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      // All interpreters start with the first test; each test awaits its own.
      if (runs.size === 0) {
        for (const p of INTERPRETERS) {
          const run = checkRoundTrip(p);
          run.catch(() => {}); // reported by its own test
          runs.set(p, run);
        }
      }
      await runs.get(python);
    },
  });
}
