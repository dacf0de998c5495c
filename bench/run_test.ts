import assert from "node:assert/strict";
import { parse_cpu_seconds, summarize_stderr } from "./run.ts";

Deno.test("summarize_stderr prefers the line naming an error over a backtrace", () => {
  const stderr =
    "\x1b[31merror\x1b[0m: Module not found main.ts\nStack backtrace:\n  0: <unknown>\n";
  assert.equal(summarize_stderr(stderr), "error: Module not found main.ts");
  assert.equal(summarize_stderr("one\ntwo\n"), "two");
  assert.equal(summarize_stderr(""), "");
  assert.equal(summarize_stderr("x".repeat(400)).length, 303);
});

Deno.test("parse_cpu_seconds adds user and system time and rejects anything else", () => {
  assert.equal(parse_cpu_seconds("0.50 0.25\n"), 0.75);
  // A killed child makes time print a status line first.
  assert.equal(parse_cpu_seconds("Command exited with non-zero status 1\n1.00 2.00\n"), 3);
  assert.equal(parse_cpu_seconds(""), undefined);
  assert.equal(parse_cpu_seconds("abc def"), undefined);
  assert.equal(parse_cpu_seconds("1.0"), undefined);
});
