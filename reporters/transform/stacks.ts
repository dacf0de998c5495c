/** The stack each transform format writes for a snapshot record. */
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import type { StackFrames } from "../../lib/analysis/stack_resolver.ts";

/** A frame as the transform formats write it (memray's `(function, filename, lineno)`). */
export interface TransformFrame {
  function: string;
  filename: string;
  lineno: number;
}

/**
 * The record's frames, leaf first, as memray's `stack_trace()` (the main thread's launcher frames
 * hidden) or, for a capture with native traces, its `hybrid_stack_trace()`: `stacks` is the
 * report's resolver, which merges native and Python frames and drops CPython's own.
 */
export function recordStack(stacks: StackFrames, record: LocationRecord): TransformFrame[] {
  return stacks.frames(record.py_stack, record.native_stack, record.thread_id)
    .map((f) => ({ function: f.function, filename: f.file, lineno: f.line }));
}
