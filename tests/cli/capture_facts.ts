/** Facts about raw captures, read by the independent decoder (fixtures/capture_facts.py). */
import assert from "node:assert/strict";
import { PROJECT_ROOT, realPython, runProgram } from "./helpers.ts";

const FACTS = `${PROJECT_ROOT}/tests/cli/fixtures/capture_facts.py`;

/** One allocation of a requested size. */
export interface Allocation {
  /** Python function names, outermost first. */
  stack: string[];
  /** The frames' files, outermost first. */
  files: string[];
  /** The engine's thread id. */
  tid: number;
  /** The thread's last name in the capture. */
  thread: string | null;
}

/** What capture_facts.py prints. */
export interface Facts {
  pid: number;
  parent_pid: number | null;
  finished: boolean;
  argv: string[];
  /** Engine thread id → [name, os_tid, origin] (the last THREAD_INFO). */
  threads: Record<string, [string | null, number | null, number | null]>;
  sizes: Record<string, Allocation[]>;
}

/** Decodes a raw capture and lists the allocations of each of `sizes` (or size + 1). */
export async function captureFacts(path: string, sizes: number[]): Promise<Facts> {
  const result = await runProgram(await realPython(), [FACTS, path, ...sizes.map(String)]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}
