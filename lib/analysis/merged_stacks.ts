/**
 * Hybrid stacks of native captures, as memray's `hybrid_stack_trace` builds them (reference
 * §4.6): every native frame of the interpreter loop is replaced by the Python frames it ran, so
 * a stack reads `baz (ext.c) <- bar (ext.c) <- foo (ext.c) <- py_caller (x.py:12) <- <module>`.
 * Reports then drop CPython's own frames (§2.2, {@link dropCpythonInternal}).
 */
import { isCpythonInternal } from "./frame_filter.ts";

/** A symbolized native frame (the symbolizer's NativeFrame, structurally). */
export interface NativeFrameLike {
  function: string;
  file: string;
  line: number;
  module?: string;
  inlined?: boolean;
}

/** A resolved Python frame with its entry flag (PY_STACK `is_entry_frame`). */
export interface PythonFrameLike {
  function: string;
  filename: string;
  lineno: number;
  /**
   * True when the frame started its own C-level eval-loop call. Always true before 3.11; on
   * 3.11+ a false frame ran inside its caller's `_PyEval_EvalFrameDefault` call.
   */
  is_entry: boolean;
}

/** One frame of a merged stack. */
export interface MergedFrame {
  kind: "python" | "native";
  function: string;
  file: string;
  line: number;
  /** The module path of a native frame. */
  module?: string;
}

/** Options of {@link mergeStacks}. */
export interface MergeOptions {
  /**
   * How many outermost Python frames belong to the launcher (main thread only): they are cut,
   * and so is every native frame outside the first kept Python frame. Default 0.
   */
  launcher_frames?: number;
}

/** True for a native frame that is one run of the interpreter loop. */
export function isEvalLoopFrame(symbol: string): boolean {
  // 3.14's tail-calling interpreter has no single eval function: its opcode handlers are it.
  return symbol.includes("_PyEval_EvalFrameDefault") || symbol.startsWith("_TAIL_CALL_");
}

function pythonFrame(frame: PythonFrameLike): MergedFrame {
  return { kind: "python", function: frame.function, file: frame.filename, line: frame.lineno };
}

function nativeFrame(frame: NativeFrameLike): MergedFrame {
  const out: MergedFrame = {
    kind: "native",
    function: frame.function,
    file: frame.file,
    line: frame.line,
  };
  if (frame.module !== undefined) out.module = frame.module;
  return out;
}

/**
 * Merges a native stack and a Python stack (both leaf first) into one leaf-first stack.
 *
 * Native frames are walked from the root: each eval-loop frame is replaced by the next Python
 * frame and the non-entry frames right after it (3.11+ runs several Python calls in one loop
 * call); other native frames stay. Pairing from the root copes with an eval loop that allocated
 * before its frame was pushed. When Python frames are left over (a stripped interpreter whose
 * loop frames have no names), the plain Python stack is returned, without launcher frames.
 */
export function mergeStacks(
  native_leaf_first: readonly NativeFrameLike[],
  python_leaf_first: readonly PythonFrameLike[],
  options: MergeOptions = {},
): MergedFrame[] {
  const to_skip = Math.max(0, Math.min(options.launcher_frames ?? 0, python_leaf_first.length));
  const python = [...python_leaf_first].reverse();
  const root_first: MergedFrame[] = [];
  let next = 0;
  for (let n = native_leaf_first.length - 1; n >= 0; n--) {
    const frame = native_leaf_first[n];
    if (next >= python.length || !isEvalLoopFrame(frame.function)) {
      root_first.push(nativeFrame(frame));
      continue;
    }
    // A loop call runs one entry frame and the non-entry frames it inlined; the bound is the
    // Python stack's length.
    do {
      // Reaching the first frame the user wrote: everything outside it is the launcher's.
      if (to_skip > 0 && next === to_skip) root_first.length = 0;
      root_first.push(pythonFrame(python[next]));
      next++;
    } while (next < python.length && !python[next].is_entry);
  }
  if (next < python.length) {
    return python_leaf_first.slice(0, python_leaf_first.length - to_skip).map(pythonFrame);
  }
  return root_first.reverse();
}

/** Drops CPython's own frames (eval loop, call machinery) as memray's reporters do (§2.2). */
export function dropCpythonInternal(frames: readonly MergedFrame[]): MergedFrame[] {
  return frames.filter((frame) =>
    frame.kind === "python" ||
    !isCpythonInternal({ function: frame.function, filename: frame.file })
  );
}
