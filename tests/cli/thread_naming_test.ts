/**
 * Thread names and origins in real captures: a thread is named before `run()` without leaving a
 * launcher frame on its stacks, a rename from another thread reaches the capture, and a Python
 * thread's THREAD_INFO ends with origin 0.
 */
import assert from "node:assert/strict";
import { captureFacts } from "./capture_facts.ts";
import { exists, REAL_ENGINE, runMemray, withScripts } from "./helpers.ts";

const HAVE_ENGINE = await exists(REAL_ENGINE);

const RENAMED = `import threading
started, go, keep = threading.Event(), threading.Event(), []

def worker():
    started.set()
    go.wait()
    keep.append(bytearray(55555))

def named():
    keep.append(bytearray(44444))

t = threading.Thread(target=worker, name="before")
t.start()
started.wait()
t.name = "renamed-outside"
go.set()
t.join()
u = threading.Thread(target=named, name="plain-name")
u.start()
u.join()
`;

Deno.test({
  name: "thread naming: no launcher frame, renames from outside, origin of Python threads",
  ignore: !HAVE_ENGINE,
  fn: async () => {
    await withScripts({ "threads.py": RENAMED }, async (cwd) => {
      const run = await runMemray(["run", "-q", "--no-compress", "-o", "t.bin", "threads.py"], {
        cwd,
      });
      assert.equal(run.code, 0, run.stderr);
      const facts = await captureFacts(`${cwd}/t.bin`, [55555, 44444]);
      const [renamed] = facts.sizes["55555"];
      const [plain] = facts.sizes["44444"];
      assert.equal(renamed.thread, "renamed-outside");
      assert.equal(plain.thread, "plain-name");
      for (const allocation of [renamed, plain]) {
        assert.ok(
          !allocation.files.some((file) => file.includes("memray_deno")),
          allocation.files.join(" > "),
        );
        assert.equal(allocation.stack.at(-2), "run");
        const [, , origin] = facts.threads[String(allocation.tid)];
        assert.equal(origin, 0, "a Python thread ends with origin 0");
      }
    });
  },
});
