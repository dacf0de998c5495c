/** What `memray run` leaves behind: finished, compressed captures (and its children's). */
import assert from "node:assert/strict";
import { runCommand, type RunOptions } from "../../lib/run/run_command.ts";
import { exists, REAL_ENGINE, runMemray, stubEngine, withScripts } from "./helpers.ts";

const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];
const HAVE_ENGINE = await exists(REAL_ENGINE);
if (!HAVE_ENGINE) {
  console.log(`note: ${REAL_ENGINE} is missing (run scripts/setup.sh); capture tests skipped`);
}

async function startsWithLz4(path: string): Promise<boolean> {
  const head = (await Deno.readFile(path)).subarray(0, 4);
  return LZ4_MAGIC.every((byte, index) => head[index] === byte);
}

const FORKING = `import os
pid = os.fork()
if pid == 0:
    kept = [bytearray(100000) for _ in range(3)]
    os._exit(0)
os.waitpid(pid, 0)
print(pid)
`;

Deno.test({
  name: "real engine: the capture is compressed and readable by stats",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts(
      { "work.py": "data = [bytearray(50000) for _ in range(10)]\n" },
      async (cwd) => {
        const run = await runMemray(["run", "-q", "-o", "out.bin", "work.py"], { cwd });
        assert.equal(run.code, 0, run.stderr);
        assert.ok(await startsWithLz4(`${cwd}/out.bin`));
        const stats = await runMemray(["stats", "out.bin"], { cwd });
        assert.equal(stats.code, 0, stats.stderr);
        assert.match(stats.stdout, /Total allocations/);

        const raw = await runMemray(["run", "-q", "--no-compress", "-o", "raw.bin", "work.py"], {
          cwd,
        });
        assert.equal(raw.code, 0, raw.stderr);
        assert.equal(await startsWithLz4(`${cwd}/raw.bin`), false);
      },
    );
  },
});

Deno.test({
  name: "real engine: --follow-fork compresses the children's captures and no older file",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts({ "fork.py": FORKING, "out.bin.12345": "stale" }, async (cwd) => {
      const run = await runMemray(["run", "-q", "--follow-fork", "-o", "out.bin", "fork.py"], {
        cwd,
      });
      assert.equal(run.code, 0, run.stderr);
      const childPid = run.stdout.trim();
      assert.ok(await startsWithLz4(`${cwd}/out.bin`));
      assert.ok(await startsWithLz4(`${cwd}/out.bin.${childPid}`));
      assert.equal(await Deno.readTextFile(`${cwd}/out.bin.12345`), "stale");
    });
  },
});

Deno.test({
  name: "real engine: --aggregate writes a capture stats refuses and summary reads",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts(
      { "work.py": "data = [bytearray(50000) for _ in range(10)]\n" },
      async (cwd) => {
        const run = await runMemray(["run", "-q", "--aggregate", "-o", "agg.bin", "work.py"], {
          cwd,
        });
        assert.equal(run.code, 0, run.stderr);
        assert.ok(await startsWithLz4(`${cwd}/agg.bin`));
        const stats = await runMemray(["stats", "agg.bin"], { cwd });
        assert.equal(stats.code, 1);
        assert.match(stats.stderr, /pre-aggregated/);
        const summary = await runMemray(["summary", "agg.bin"], { cwd });
        assert.equal(summary.code, 0, summary.stderr);
        assert.match(summary.stdout, /work\.py/);
      },
    );
  },
});

Deno.test("after the run: aggregate then compress, for the capture and each child's", async () => {
  const engine = await stubEngine();
  // The stand-in engine writes no child files: the program writes one as the engine would.
  const script = `import os, sys
pid = os.fork()
if pid == 0:
    open(sys.argv[1] + "." + str(os.getpid()), "w").write("child")
    os._exit(0)
os.waitpid(pid, 0)
`;
  await withScripts({ "fork.py": script, "out.bin.1": "old" }, async (cwd) => {
    const steps: string[] = [];
    const options: RunOptions = {
      target: `${cwd}/fork.py`,
      scriptArgs: [`${cwd}/out.bin`],
      module: false,
      command: false,
      output: `${cwd}/out.bin`,
      force: false,
      quiet: true,
      native: false,
      tracePythonAllocators: false,
      followFork: true,
      aggregate: true,
      compress: true,
      nativeLib: engine,
    };
    const code = await runCommand(options, {
      aggregate: (path) =>
        Promise.resolve(void steps.push(`aggregate ${path.slice(cwd.length + 1)}`)),
      compress: (path) =>
        Promise.resolve(void steps.push(`compress ${path.slice(cwd.length + 1)}`)),
    });
    assert.equal(code, 0);
    const child = steps.find((step) => /out\.bin\.\d{2,}$/.test(step))?.split(" ")[1];
    assert.ok(child, steps.join(", "));
    assert.deepEqual(steps, [
      "aggregate out.bin",
      "compress out.bin",
      `aggregate ${child}`,
      `compress ${child}`,
    ]);
  });
});
