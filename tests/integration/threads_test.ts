/**
 * 16 Python threads making 100,000 malloc/free pairs each at the same time: every allocation and
 * every free is in the capture, attributed to its own thread, which carries the name threading
 * gave it, at the Python line that called into C.
 */
import assert from "node:assert/strict";
import { type Capture } from "../../lib/capture/reader.ts";
import {
  expectExit,
  factsOf,
  KIND,
  lineOf,
  PRELUDE,
  read,
  runScript,
  withTempDir,
} from "./helpers.ts";

const THREADS = 16;
const PER_THREAD = 100_000;
/** Thread i allocates BASE_SIZE + i bytes, so every record says which thread made it. */
const BASE_SIZE = 123 * 8 * 5;

const SOURCE = `${PRELUDE}
import threading
start = threading.Barrier(${THREADS})
tids = {}

def work(i):
    tids[threading.current_thread().name] = threading.get_native_id()
    start.wait()
    assert lib.h_malloc_free_loop(${BASE_SIZE} + i, ${PER_THREAD}) == 0  # CALL:loop

threads = [threading.Thread(target=work, args=(i,), name="worker-%02d" % i)
           for i in range(${THREADS})]
for t in threads:
    t.start()
for t in threads:
    t.join()
emit(tids=tids)
`;

/** Per thread id: malloc count by size, frees matching a live malloc, and Python stack nodes. */
function tally(capture: Capture) {
  const e = capture.events;
  const per_thread = new Map<number, { mallocs: Map<number, number>; frees: number }>();
  const stacks = new Map<number, Set<number>>();
  const live = new Map<number, Set<number>>();
  for (let i = 0; i < e.count; i++) {
    const size = e.size[i];
    const t = e.thread[i];
    let entry = per_thread.get(t);
    if (entry === undefined) {
      entry = { mallocs: new Map(), frees: 0 };
      per_thread.set(t, entry);
      live.set(t, new Set());
    }
    if (e.kind[i] === KIND.malloc && size >= BASE_SIZE && size < BASE_SIZE + THREADS) {
      entry.mallocs.set(size, (entry.mallocs.get(size) ?? 0) + 1);
      live.get(t)!.add(e.addr[i]);
      if (!stacks.has(t)) stacks.set(t, new Set());
      stacks.get(t)!.add(e.py_stack[i]);
    } else if (e.kind[i] === KIND.free && live.get(t)!.delete(e.addr[i])) {
      entry.frees++;
    }
  }
  return { per_thread, stacks };
}

Deno.test("16 threads x 100k allocations: exact counts per named thread", async () => {
  await withTempDir(async (dir) => {
    const result = await runScript(dir, "threads.py", SOURCE, { flags: ["--no-compress"] });
    expectExit(result, 0, "memray run");
    const tids = factsOf(result)[0].tids as Record<string, number>;
    const capture = await read(`${dir}/out.bin`);
    assert.equal(capture.cut_off, false);
    assert.equal(capture.header.finished, true);
    const { per_thread, stacks } = tally(capture);
    const seen_names = new Set<string>();
    for (const [thread_id, entry] of per_thread) {
      if (entry.mallocs.size === 0) continue;
      const info = capture.threads.get(thread_id)!;
      assert.equal(entry.mallocs.size, 1, `thread ${thread_id} allocated several sizes`);
      const [[size, count]] = entry.mallocs;
      const name = `worker-${String(size - BASE_SIZE).padStart(2, "0")}`;
      assert.equal(info.name, name, `thread ${thread_id} allocating ${size} bytes`);
      assert.equal(info.os_tid, tids[name], `${name}: os tid`);
      assert.equal(count, PER_THREAD, `${name}: allocations`);
      assert.equal(entry.frees, PER_THREAD, `${name}: frees of its own blocks`);
      seen_names.add(name);
      assert.equal(stacks.get(thread_id)!.size, 1, `${name}: one Python stack for all`);
      const [node] = stacks.get(thread_id)!;
      const frames = capture.python.frames(node, false);
      assert.equal(frames[0].function, "work");
      assert.equal(frames[0].lineno, lineOf(SOURCE, "# CALL:loop"));
    }
    assert.equal(seen_names.size, THREADS, `threads seen: ${[...seen_names].join(", ")}`);
  });
});
