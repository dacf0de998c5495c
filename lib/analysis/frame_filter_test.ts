import { assertEquals } from "../../tests/support/assert.ts";
import {
  classifyFrame,
  classifyStack,
  isCpythonInternal,
  isFrameInteresting,
  isImportSystemFrame,
  isRunpyFrame,
} from "./frame_filter.ts";

const f = (fn: string, file: string, lineno = 1) => ({ function: fn, filename: file, lineno });

Deno.test("CPython-internal needs an interpreter symbol in a CPython source file", () => {
  const internal = [
    f("_PyEval_EvalFrameDefault", "Python/ceval.c"),
    f("PyEval_EvalCode", "Python/ceval.c"),
    f("_PyObject_MakeTpCall", "Objects/call.c"),
    f("_PyFunction_Vectorcall", "/src/cpython/Objects/call.c"),
    f("method_vectorcall_FASTCALL", "Objects/descrobject.c"),
    f("type_call", "Objects/typeobject.c"),
    f("slot_tp_call", "Objects/typeobject.c"),
    f("anything", "Objects/call.c"),
    f("_TAIL_CALL_LOAD_ATTR.llvm.123", "Python/generated_cases.c.h"),
    f("_Py_Dealloc", "Include/object.h"),
  ];
  for (const frame of internal) assertEquals(isCpythonInternal(frame), true, frame.function);
  const kept = [
    f("_PyEval_EvalFrameDefault", "/work/app/app.py"), // right name, wrong file
    f("build", "Objects/foo.c"), // CPython file, ordinary symbol
    f("PyList_Append", "Objects/listobject.c"), // public API that allocates: kept
    f("_TAIL_CALL_LOAD_ATTR", "Python/generated_cases.c.h"), // no LLVM suffix
    f("malloc", "/usr/lib/libc.so.6"),
  ];
  for (const frame of kept) assertEquals(isCpythonInternal(frame), false, frame.function);
});

Deno.test("runpy, import system and interesting frames", () => {
  assertEquals(isRunpyFrame(f("_run_module_as_main", "/usr/lib/python3.11/runpy.py")), true);
  assertEquals(isRunpyFrame(f("_run_code", "<frozen runpy>")), true);
  assertEquals(isRunpyFrame(f("main", "/work/app/notrunpy.pyc")), false);
  assertEquals(isImportSystemFrame(f("_find_and_load", "<frozen importlib._bootstrap>")), true);
  assertEquals(isImportSystemFrame(f("import_name", "Python/ceval.c")), true);
  assertEquals(isImportSystemFrame(f("import_name", "/work/app/app.py")), false);
  assertEquals(isFrameInteresting(f("_run_code", "<frozen runpy>")), false);
  assertEquals(isFrameInteresting(f("_find_and_load", "<frozen importlib._bootstrap>")), false);
  assertEquals(isFrameInteresting(f("build", "/work/app/app.py")), true);
  assertEquals(classifyFrame(f("_PyEval_EvalFrameDefault", "Python/ceval.c")), {
    cpython_internal: true,
    import_system: false,
    interesting: false,
  });
});

Deno.test("classifyStack drops CPython-internal frames and returns the root first", () => {
  const leaf_first = [
    f("alloc_here", "/work/app/mod.py", 3),
    f("_PyEval_EvalFrameDefault", "Python/ceval.c"),
    f("<module>", "/work/app/mod.py", 1),
    f("_find_and_load", "<frozen importlib._bootstrap>"),
    f("<module>", "/work/app/app.py", 2),
    f("_run_code", "<frozen runpy>"),
  ];
  const plain = classifyStack(leaf_first);
  assertEquals(plain.map((c) => c.frame.function), [
    "_run_code",
    "<module>",
    "_find_and_load",
    "<module>",
    "alloc_here",
  ]);
  assertEquals(plain.map((c) => c.interesting), [false, true, false, true, true]);
  assertEquals(plain.map((c) => c.import_system), [false, false, true, false, false]);
  const propagated = classifyStack(leaf_first, { propagate_import_system: true });
  assertEquals(propagated.map((c) => c.import_system), [false, false, true, true, true]);
  assertEquals(propagated.map((c) => c.interesting), [false, true, false, false, false]);
  assertEquals(classifyStack([]), []);
});
