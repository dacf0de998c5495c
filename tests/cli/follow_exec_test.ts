/**
 * `--follow-fork` across exec: Python children started by multiprocessing's spawn method, by
 * subprocess, and through a shell each write `<output>.<pid>` with their own code's stacks;
 * non-Python children write nothing; without the flag children see a plain run's environment.
 */
import assert from "node:assert/strict";
import { captureFacts } from "./capture_facts.ts";
import { exists, REAL_ENGINE, realPython, runMemray, runProgram, withScripts } from "./helpers.ts";

const HAVE_ENGINE = await exists(REAL_ENGINE);
/** The `<output>.<suffix>` files in `directory`, as their suffixes. */
async function childSuffixes(directory: string, output: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (entry.name.startsWith(`${output}.`)) names.push(entry.name.slice(output.length + 1));
  }
  return names.sort();
}

const POOL = (method: string) =>
  `import multiprocessing as mp, os, sys

def work():
    global kept
    kept = [bytearray(123457) for _ in range(7)]

if __name__ == "__main__":
    mp.set_start_method("${method}")
    pool = mp.Pool(2, initializer=work)
    print(" ".join(str(p.pid) for p in pool._pool))
    pool.close()
    pool.join()
`;

const CHILD = `import os
def child_work():
    return [bytearray(98765) for _ in range(5)]
kept = child_work()
print(os.getpid(), os.getppid())
`;

const SUBPROCESS = `import subprocess, sys
subprocess.run([sys.executable, "child.py"], check=True)
`;

const THROUGH_SHELL = `import subprocess, sys
subprocess.run(["sh", "-c", f"{sys.executable} child.py; echo sh $$"], check=True)
subprocess.run(["ls", "/nonexistent-memray"], stderr=subprocess.DEVNULL)
`;

const SHOW_CHILD_ENV = `import json, os, subprocess, sys
code = "import json, os; print(json.dumps(dict(os.environ)))"
out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
print(out.stdout.strip())
`;

async function followRun(cwd: string, script: string, extra: string[] = []) {
  const run = await runMemray(
    ["run", "-q", "-f", "--no-compress", ...extra, "-o", "out.bin", script],
    { cwd },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return run;
}

for (const method of ["spawn", "forkserver"]) {
  Deno.test({
    name: `follow exec: a ${method} pool's workers each write their own allocations`,
    ignore: !HAVE_ENGINE,
    fn: async () => {
      await withScripts({ "pool.py": POOL(method) }, async (cwd) => {
        const run = await followRun(cwd, "pool.py", ["--follow-fork"]);
        const workers = run.stdout.trim().split(" ");
        assert.equal(workers.length, 2);
        const root = await captureFacts(`${cwd}/out.bin`, [123457]);
        assert.deepEqual(root.sizes["123457"], []);
        const suffixes = await childSuffixes(cwd, "out.bin");
        for (const pid of workers) assert.ok(suffixes.includes(pid), `${pid} in ${suffixes}`);
        for (const pid of workers) {
          const facts = await captureFacts(`${cwd}/out.bin.${pid}`, [123457]);
          assert.equal(facts.pid, Number(pid));
          if (method === "spawn") {
            assert.equal(facts.parent_pid, root.pid);
            assert.ok(facts.finished, "the child stopped tracking before finalization");
          } else {
            // Forked by the fork server, itself a followed Python child of the root.
            const server = await captureFacts(`${cwd}/out.bin.${facts.parent_pid}`, []);
            assert.equal(server.parent_pid, root.pid);
          }
          const allocations = facts.sizes["123457"];
          assert.equal(allocations.length, 7);
          for (const { stack } of allocations) {
            assert.ok(stack.includes("work"), stack.join(" > "));
            assert.ok(!stack.some((name) => name.includes("follow")), stack.join(" > "));
          }
        }
        // Other Python children (the resource tracker) may write files, but none of them
        // holds a worker's allocations.
        for (const suffix of suffixes.filter((s) => !workers.includes(s))) {
          const facts = await captureFacts(`${cwd}/out.bin.${suffix}`, [123457]);
          assert.deepEqual(facts.sizes["123457"], []);
        }
      });
    },
  });
}

Deno.test({
  name: "follow exec: a Python subprocess writes its own capture with its own stacks",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts({ "main.py": SUBPROCESS, "child.py": CHILD }, async (cwd) => {
      const run = await followRun(cwd, "main.py", ["--follow-fork"]);
      const [pid, parent] = run.stdout.trim().split(" ");
      const root = await captureFacts(`${cwd}/out.bin`, [98765]);
      assert.equal(root.pid, Number(parent));
      assert.deepEqual(await childSuffixes(cwd, "out.bin"), [pid]);
      const facts = await captureFacts(`${cwd}/out.bin.${pid}`, [98765]);
      assert.equal(facts.parent_pid, root.pid);
      assert.deepEqual(facts.argv, ["child.py"]);
      assert.deepEqual(facts.sizes["98765"].map((a) => a.stack.slice(0, 2)), [
        ["<module>", "child_work"],
        ["<module>", "child_work"],
        ["<module>", "child_work"],
        ["<module>", "child_work"],
        ["<module>", "child_work"],
      ]);
    });
  },
});

Deno.test({
  name: "follow exec: through a shell the Python grandchild is followed, sh and ls write nothing",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts({ "main.py": THROUGH_SHELL, "child.py": CHILD }, async (cwd) => {
      const run = await followRun(cwd, "main.py", ["--follow-fork"]);
      const lines = run.stdout.trim().split("\n");
      const [pid, parent] = lines[0].split(" ");
      assert.equal(lines[1], `sh ${parent}`);
      assert.deepEqual(await childSuffixes(cwd, "out.bin"), [pid]);
      const facts = await captureFacts(`${cwd}/out.bin.${pid}`, [98765]);
      assert.equal(facts.parent_pid, Number(parent));
      assert.equal(facts.sizes["98765"].length, 5);
    });
  },
});

Deno.test({
  name: "follow exec: without --follow-fork no child files and a plain run's child environment",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts(
      { "env.py": SHOW_CHILD_ENV, "main.py": SUBPROCESS, "child.py": CHILD },
      async (cwd) => {
        const plain = await runProgram(await realPython(), ["env.py"], { cwd });
        assert.equal(plain.code, 0, plain.stderr);
        const profiled = await followRun(cwd, "env.py");
        assert.deepEqual(JSON.parse(profiled.stdout), JSON.parse(plain.stdout));
        await followRun(cwd, "main.py");
        assert.deepEqual(await childSuffixes(cwd, "out.bin"), []);
      },
    );
  },
});
