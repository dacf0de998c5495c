/**
 * Child processes (reference §4.7, §9 item 16): with `--follow-fork` every forked child writes
 * `<output>.<pid>` holding exactly its own allocations; without it children write nothing and the
 * parent's capture holds only the parent's allocations.
 */
import assert from "node:assert/strict";
import {
  allocations,
  allocationsOfSize,
  expectExit,
  factsOf,
  KIND,
  PRELUDE,
  read,
  runScript,
  withTempDir,
} from "./helpers.ts";

const PARENT_SIZE = 123 * 8 * 7 + 1;
const CHILD_SIZE = 123 * 8 * 7 + 2;

const OS_FORK = `${PRELUDE}
N = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    for _ in range(N):
        lib.h_free(lib.h_valloc(${CHILD_SIZE}))
    sys.stdout.flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
lib.h_free(lib.h_valloc(${PARENT_SIZE}))
emit(children={str(pid): N}, parent=os.getpid(), status=status)
`;

/** Children made with multiprocessing (start method in argv[1]); child i allocates 10*(i+1). */
const MULTIPROCESSING = `${PRELUDE}
import multiprocessing

def child(n):
    for _ in range(n):
        lib.h_free(lib.h_valloc(${CHILD_SIZE}))

if __name__ == "__main__":
    context = multiprocessing.get_context(sys.argv[1])
    children = {}
    for i in range(3):
        process = context.Process(target=child, args=(10 * (i + 1),))
        process.start()
        process.join()
        assert process.exitcode == 0, process.exitcode
        children[str(process.pid)] = 10 * (i + 1)
    lib.h_free(lib.h_valloc(${PARENT_SIZE}))
    emit(children=children, parent=os.getpid())
`;

/** A child Python started with subprocess (fork + exec of the same interpreter). */
const SUBPROCESS = `${PRELUDE}
import subprocess
code = ("import ctypes, os\\n"
        "lib = ctypes.CDLL(os.environ['MEMRAY_TEST_HELPER'])\\n"
        "lib.h_valloc.restype = ctypes.c_void_p\\n"
        "lib.h_free.argtypes = [ctypes.c_void_p]\\n"
        "for _ in range(25): lib.h_free(lib.h_valloc(${CHILD_SIZE}))\\n"
        "print(os.getpid())\\n")
done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, check=True)
lib.h_free(lib.h_valloc(${PARENT_SIZE}))
emit(children={done.stdout.decode().strip(): 25}, parent=os.getpid())
`;

interface Outcome {
  children: Record<string, number>;
  parent: number;
}

/** Runs `source` under memray; returns the facts and the capture files in the directory. */
async function runFork(dir: string, source: string, flags: string[], args: string[]) {
  const result = await runScript(dir, "script.py", source, { flags, args });
  expectExit(result, 0, "memray run");
  const facts = factsOf(result)[0] as unknown as Outcome;
  const files = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("out.bin")) files.push(entry.name);
  }
  return { facts, files: files.sort() };
}

/** Checks the parent's capture: exactly its one allocation, none of the children's. */
async function checkParent(dir: string, facts: Outcome) {
  const parent = await read(`${dir}/out.bin`);
  assert.equal(parent.header.pid, facts.parent, "parent capture pid");
  assert.equal(allocations(parent, KIND.valloc, PARENT_SIZE).length, 1, "parent's allocation");
  assert.equal(allocationsOfSize(parent, CHILD_SIZE).length, 0, "children's allocations");
}

/**
 * Checks that each child has its file with exactly its allocations, and that no other files exist
 * but those of multiprocessing's resource tracker (a Python child of "spawn" too, so followed).
 */
async function checkFollowed(dir: string, facts: Outcome, files: string[], compressed: boolean) {
  const expected_files = ["out.bin", ...Object.keys(facts.children).map((pid) => `out.bin.${pid}`)];
  const others = files.filter((file) => !expected_files.includes(file));
  for (const other of others) {
    const helper = await read(`${dir}/${other}`);
    const files_run = [...helper.codes.values()].map((code) => code.filename);
    assert.ok(
      files_run.some((file) => file.endsWith("multiprocessing/resource_tracker.py")),
      `${other} belongs to no child the program reported`,
    );
  }
  assert.deepEqual(files.filter((f) => !others.includes(f)), expected_files.sort(), "files");
  await checkParent(dir, facts);
  for (const [pid, count] of Object.entries(facts.children)) {
    const child = await read(`${dir}/out.bin.${pid}`);
    assert.equal(child.compressed, compressed, `child ${pid}: compressed`);
    assert.equal(child.header.pid, Number(pid), `child ${pid}: header pid`);
    assert.equal(child.header.metadata.parent_pid, facts.parent, `child ${pid}: parent_pid`);
    const found = allocations(child, KIND.valloc, CHILD_SIZE);
    assert.equal(found.length, count, `child ${pid}: allocations`);
    assert.equal(allocationsOfSize(child, PARENT_SIZE).length, 0, `child ${pid}: parent's`);
    const freed = new Set(found.map((a) => a.addr));
    const e = child.events;
    let frees = 0;
    for (let i = 0; i < e.count; i++) {
      if (e.kind[i] === KIND.free && freed.has(e.addr[i])) frees++;
    }
    assert.ok(frees >= count, `child ${pid}: ${frees} frees of ${count} blocks`);
  }
}

Deno.test("os.fork with --follow-fork: the child's file holds exactly its allocations", async () => {
  await withTempDir(async (dir) => {
    const { facts, files } = await runFork(dir, OS_FORK, ["--follow-fork"], ["40"]);
    await checkFollowed(dir, facts, files, true);
  });
});

Deno.test("os.fork without --follow-fork: no child file, parent has only its own", async () => {
  await withTempDir(async (dir) => {
    const { facts, files } = await runFork(dir, OS_FORK, ["--no-compress"], ["40"]);
    assert.deepEqual(files, ["out.bin"]);
    await checkParent(dir, facts);
  });
});

Deno.test("multiprocessing (fork) with --follow-fork: one file per child", async () => {
  await withTempDir(async (dir) => {
    const { facts, files } = await runFork(dir, MULTIPROCESSING, [
      "--follow-fork",
      "--no-compress",
    ], ["fork"]);
    await checkFollowed(dir, facts, files, false);
  });
});

Deno.test("multiprocessing (fork) without --follow-fork: no child files", async () => {
  await withTempDir(async (dir) => {
    const { facts, files } = await runFork(dir, MULTIPROCESSING, ["--no-compress"], ["fork"]);
    assert.deepEqual(files, ["out.bin"]);
    await checkParent(dir, facts);
  });
});

// Children that exec a new interpreter (multiprocessing "spawn", subprocess) are followed too,
// which memray cannot do.
Deno.test({
  name: "multiprocessing (spawn) with --follow-fork: one file per child",
  fn: async () => {
    await withTempDir(async (dir) => {
      const { facts, files } = await runFork(dir, MULTIPROCESSING, [
        "--follow-fork",
        "--no-compress",
      ], ["spawn"]);
      await checkFollowed(dir, facts, files, false);
    });
  },
});

Deno.test({
  name: "a Python subprocess with --follow-fork: its own file",
  fn: async () => {
    await withTempDir(async (dir) => {
      const { facts, files } = await runFork(
        dir,
        SUBPROCESS,
        ["--follow-fork", "--no-compress"],
        [],
      );
      await checkFollowed(dir, facts, files, false);
    });
  },
});

Deno.test("spawn and subprocess children without --follow-fork write nothing", async () => {
  await withTempDir(async (dir) => {
    const spawned = await runFork(dir, MULTIPROCESSING, ["--no-compress"], ["spawn"]);
    assert.deepEqual(spawned.files, ["out.bin"]);
    await checkParent(dir, spawned.facts);
    await Deno.remove(`${dir}/out.bin`);
    const sub = await runFork(dir, SUBPROCESS, ["--no-compress"], []);
    assert.deepEqual(sub.files, ["out.bin"]);
    await checkParent(dir, sub.facts);
  });
});
