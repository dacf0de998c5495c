/**
 * Runs the capture engine's native tests (tests/native_engine/run.sh) from `deno test`.
 * The scenarios themselves live in run_checks.py; this wrapper fails when any of them fails.
 */
import assert from "node:assert/strict";

const script = new URL("./run.sh", import.meta.url).pathname;
const pythons = [
  "/root/.pyenv/versions/3.9.18/bin/python3.9",
  "/root/.pyenv/versions/3.11.7/bin/python3.11",
  "/root/.pyenv/versions/3.13.0/bin/python3.13",
];

Deno.test("native engine: allocators, errno, threads, fork, SIGKILL, stacks", async () => {
  const available = pythons.filter((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
  assert.ok(available.length > 0, "Cannot run engine tests: no Python interpreter found");
  const output = await new Deno.Command("bash", { args: [script, ...available] }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `engine tests failed:\n${text}`);
  assert.match(text, /0 failure\(s\)/);
});
