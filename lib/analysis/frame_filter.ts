/**
 * Frame classification as memray's `reporters/frame_tools.py` does it (reference §2.2), shared by
 * every report that draws stacks (tree, flame graph, table, diff):
 * - CPython-internal frames (the interpreter's own C functions) are dropped entirely;
 * - runpy and import-system frames are "uninteresting": reports hide them by default, their
 *   children taking their place under the nearest shown ancestor, their bytes still counted above.
 */

/** The parts of a frame the classification reads (Python and symbolized native frames alike). */
export interface FrameLike {
  function: string;
  filename: string;
  lineno?: number;
}

/** How a report should treat one frame. */
export interface FrameClass {
  /** An interpreter function (eval loop, call machinery): drop the frame. */
  cpython_internal: boolean;
  /** Part of the import machinery (frozen importlib, ceval's import opcodes). */
  import_system: boolean;
  /** Neither runpy, nor CPython-internal, nor import system: shown by default. */
  interesting: boolean;
}

/** memray's RE_CPYTHON_PATHS, kept as written (`[c|h]` also matches a literal "|"). */
const CPYTHON_PATH = /(Include|Objects|Modules|Python|cpython).*\.[c|h]$/;

/** Call-machinery functions memray ignores regardless of their name pattern. */
const SYMBOL_IGNORELIST = new Set([
  "PyObject_Call",
  "call_function",
  "classmethoddescr_call",
  "cmpwrapper_call",
  "do_call_core",
  "fast_function",
  "function_call",
  "function_code_fastcall",
  "instance_call",
  "instancemethod_call",
  "methoddescr_call",
  "proxy_call",
  "slot_tp_call",
  "trace_call_function",
  "type_call",
  "weakref_call",
  "wrap_call",
  "wrapper_call",
  "wrapperdescr_call",
]);

const IMPORT_OPCODE_FUNCTIONS = new Set(["import_name", "import_from", "import_all_from"]);

/**
 * True for a frame of the interpreter itself: a symbol that looks like eval-loop or call
 * machinery, in a file of CPython's source tree. Both must hold, so a Python function named
 * `_Py_helper` in `app.py` stays.
 */
export function isCpythonInternal(frame: FrameLike): boolean {
  const symbol = frame.function;
  const file = frame.filename;
  const candidate = symbol.includes("PyEval_EvalFrameEx") ||
    symbol.includes("_PyEval_EvalFrameDefault") ||
    // 3.14's tail-calling interpreter: one clone per opcode, LLVM-suffixed.
    (symbol.startsWith("_TAIL_CALL_") && symbol.includes(".llvm.")) ||
    symbol.startsWith("PyEval") ||
    symbol.startsWith("_Py") ||
    symbol.toLowerCase().includes("vectorcall") ||
    SYMBOL_IGNORELIST.has(symbol) ||
    file.includes("Objects/call.c");
  return candidate && CPYTHON_PATH.test(file);
}

/** True for frames of `runpy` (`python -m`, and our launcher's way of running scripts). */
export function isRunpyFrame(frame: FrameLike): boolean {
  return frame.filename.endsWith("runpy.py") || frame.filename === "<frozen runpy>";
}

/** True for frames of the import system: frozen importlib, or ceval's import opcodes. */
export function isImportSystemFrame(frame: FrameLike): boolean {
  if (frame.filename.includes("frozen importlib")) return true;
  return IMPORT_OPCODE_FUNCTIONS.has(frame.function) && frame.filename.endsWith("ceval.c");
}

/** True when a report shows the frame by default (memray's `is_frame_interesting`). */
export function isFrameInteresting(frame: FrameLike): boolean {
  return !isRunpyFrame(frame) && !isCpythonInternal(frame) && !isImportSystemFrame(frame);
}

/** Classifies one frame. */
export function classifyFrame(frame: FrameLike): FrameClass {
  const cpython_internal = isCpythonInternal(frame);
  const import_system = isImportSystemFrame(frame);
  return {
    cpython_internal,
    import_system,
    interesting: !cpython_internal && !import_system && !isRunpyFrame(frame),
  };
}

/** A frame of a stack kept by {@link classifyStack}. */
export interface ClassifiedFrame<F extends FrameLike> extends FrameClass {
  frame: F;
}

/** Options of {@link classifyStack}. */
export interface ClassifyStackOptions {
  /**
   * Mark every frame below an import-system frame as import system too, as memray's
   * non-inverted flame graph does (default false: only the frames themselves, as its tree).
   */
  propagate_import_system?: boolean;
}

/**
 * Classifies a leaf-first stack and returns it root first, without CPython-internal frames.
 */
export function classifyStack<F extends FrameLike>(
  leaf_first: readonly F[],
  options: ClassifyStackOptions = {},
): ClassifiedFrame<F>[] {
  const out: ClassifiedFrame<F>[] = [];
  let inside_import = false;
  for (let i = leaf_first.length - 1; i >= 0; i--) {
    const frame = leaf_first[i];
    const c = classifyFrame(frame);
    if (c.cpython_internal) continue;
    const import_system = c.import_system || (options.propagate_import_system === true &&
      inside_import);
    inside_import ||= c.import_system;
    out.push({
      frame,
      cpython_internal: false,
      import_system,
      interesting: c.interesting && !import_system,
    });
  }
  return out;
}
