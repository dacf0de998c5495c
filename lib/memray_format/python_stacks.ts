/**
 * Python stacks of a memray capture: memray hides the launcher by depth, not by file. The header's
 * `skipped_frames_on_main_tid` outermost frames of every main-thread stack belong to memray's CLI
 * (everything above the caller of `Tracker.__enter__`) and are dropped, exactly as memray's
 * `stack_trace()` does (`to_keep = max(len - skipped, 0)`).
 */
import { PythonStacks, PythonStacksInit } from "../capture/python_stacks.ts";

/** {@link PythonStacks} with memray's depth-based launcher hiding. */
export class MemrayPythonStacks extends PythonStacks {
  readonly skipped_frames_on_main_tid: number;

  constructor(init: PythonStacksInit & { skipped_frames_on_main_tid: number }) {
    super({ ...init, bootstrap_file: undefined });
    this.skipped_frames_on_main_tid = init.skipped_frames_on_main_tid;
  }

  /** Frame ids of `node`, leaf first; on the main thread without the skipped outermost frames. */
  override frameIds(node: number, hide_launcher: boolean): number[] {
    const ids = this.tree.frames(node);
    if (!hide_launcher || this.skipped_frames_on_main_tid === 0) return ids;
    const keep = Math.max(ids.length - this.skipped_frames_on_main_tid, 0);
    return keep === ids.length ? ids : ids.slice(0, keep);
  }
}
