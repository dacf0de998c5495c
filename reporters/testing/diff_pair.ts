/** A base and a new capture of one program, for diff tests (analysis and report). */
import { stackCapture, StackFrame, Step } from "./stack_capture.ts";

const BOOT: StackFrame = ["<module>", "/opt/memray_deno/bootstrap.py", 2];
const APP: StackFrame = ["<module>", "/work/app/app.py", 5];
const at = (fn: string, line: number): StackFrame => [fn, "/work/app/app.py", line];

/** Base and new runs of one program: grown, removed, shrunk, unchanged, added locations. */
export function diffPair(): { base: Uint8Array; now: Uint8Array } {
  // The launcher differs between the runs (runpy's line): it is hidden, so stacks still match.
  const l1 = [
    BOOT,
    ["_run_module_as_main", "/usr/lib/python3.11/runpy.py", 198] as StackFrame,
    APP,
  ];
  const l2 = [
    BOOT,
    ["_run_module_as_main", "/usr/lib/python3.11/runpy.py", 201] as StackFrame,
    APP,
  ];
  const worker: StackFrame[] = [["run", "/work/app/worker.py", 8]];
  const base: Step[] = [
    { alloc: 0x100, size: 50_000, stack: [...l1, at("tmp", 40)] },
    { free: 0x100 },
    { alloc: 0x1000, size: 2_000_000, stack: [...l1, at("build", 13)] },
    { alloc: 0x2000, size: 1_000_000, stack: [...l1, at("load", 20)] },
    { alloc: 0x3000, size: 500_000, stack: [...l1, at("cache", 30)] },
    { alloc: 0x4000, size: 100_000, stack: worker, thread: 2 },
    { free: 0x2000 }, // after the peak: not leaked
  ];
  const now: Step[] = [
    { alloc: 0x4000, size: 100_000, stack: worker, thread: 3 },
    { alloc: 0x3000, size: 100_000, stack: [...l2, at("cache", 30)] },
    { alloc: 0x1000, size: 1_500_000, stack: [...l2, at("build", 13)] },
    { alloc: 0x1800, size: 1_500_000, stack: [...l2, at("build", 13)] },
    { alloc: 0x5000, size: 700_000, stack: [...l2, at("fresh", 50)] },
    { free: 0x1800 },
  ];
  return {
    base: stackCapture(base, { code_id_base: 1 }),
    now: stackCapture(now, { code_id_base: 500 }),
  };
}
