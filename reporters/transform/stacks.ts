/** The stack each transform format writes for a snapshot record. */
import type { Capture } from "../../lib/capture/reader.ts";
import type { PythonFrame } from "../../lib/capture/python_stacks.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";

/**
 * The record's frames, leaf first, as memray's `stack_trace()`; the main thread's launcher frames
 * are hidden. memray writes hybrid (native + Python) stacks for captures with native traces; native
 * symbolization does not exist here yet, so those captures get their Python stacks too.
 */
export function recordStack(capture: Capture, record: LocationRecord): PythonFrame[] {
  return capture.python.frames(record.py_stack, record.thread_id === capture.main_thread_id);
}
