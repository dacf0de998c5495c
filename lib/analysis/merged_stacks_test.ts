import assert from "node:assert/strict";
import {
  dropCpythonInternal,
  isEvalLoopFrame,
  type MergedFrame,
  mergeStacks,
  type NativeFrameLike,
  type PythonFrameLike,
} from "./merged_stacks.ts";

/** Native frames from "name@file:line" strings, given root first (as one reads a call chain). */
function native(...root_first: string[]): NativeFrameLike[] {
  return root_first.map((text) => {
    const [fn, where = "<unknown>:0"] = text.split("@");
    const [file, line] = where.split(":");
    return { function: fn, file, line: Number(line), module: "/lib/x.so", inlined: false };
  }).reverse();
}

/** Python frames from "name:line" (entry) or "name:line~" (non-entry), root first. */
function python(...root_first: string[]): PythonFrameLike[] {
  return root_first.map((text) => {
    const is_entry = !text.endsWith("~");
    const [fn, line] = text.replace(/~$/, "").split(":");
    return { function: fn, filename: "x.py", lineno: Number(line), is_entry };
  }).reverse();
}

/** A merged stack as "py:name:line" / "c:name", root first. */
function show(frames: MergedFrame[]): string[] {
  return [...frames].reverse().map((f) =>
    f.kind === "python" ? `py:${f.function}:${f.line}` : `c:${f.function}`
  );
}

const EVAL = "_PyEval_EvalFrameDefault@Python/ceval.c:4000";

Deno.test("eval-loop symbols, including 3.14's tail-call handlers", () => {
  assert.ok(isEvalLoopFrame("_PyEval_EvalFrameDefault"));
  assert.ok(isEvalLoopFrame("_PyEval_EvalFrameDefault.cold"));
  assert.ok(isEvalLoopFrame("_TAIL_CALL_LOAD_FAST.llvm.123"));
  assert.ok(!isEvalLoopFrame("PyEval_EvalCode"));
  assert.ok(!isEvalLoopFrame("baz"));
});

Deno.test("before 3.11: each eval-loop frame becomes one Python frame; the rest stays in place", () => {
  const merged = mergeStacks(
    native(
      "main@Programs/python.c:15",
      "PyEval_EvalCode@Python/ceval.c:1100",
      EVAL,
      "_PyFunction_Vectorcall@Objects/call.c:300",
      EVAL,
      "_PyObject_MakeTpCall@Objects/call.c:200",
      "foo@ext.c:20",
      "bar@ext.c:15",
      "baz@ext.c:10",
    ),
    python("<module>:20", "py_caller:12"),
  );
  assert.deepEqual(show(merged), [
    "c:main",
    "c:PyEval_EvalCode",
    "py:<module>:20",
    "c:_PyFunction_Vectorcall",
    "py:py_caller:12",
    "c:_PyObject_MakeTpCall",
    "c:foo",
    "c:bar",
    "c:baz",
  ]);
  assert.deepEqual(merged[0], {
    kind: "native",
    function: "baz",
    file: "ext.c",
    line: 10,
    module: "/lib/x.so",
  });
  assert.deepEqual(merged[4], { kind: "python", function: "py_caller", file: "x.py", line: 12 });
  // Reports then drop the interpreter's own frames; frames outside CPython's tree stay.
  assert.deepEqual(show(dropCpythonInternal(merged)), [
    "c:main",
    "py:<module>:20",
    "py:py_caller:12",
    "c:foo",
    "c:bar",
    "c:baz",
  ]);
});

Deno.test("3.11+: one loop call runs its entry frame and the non-entry frames after it", () => {
  const merged = mergeStacks(
    native("main@m.c:1", EVAL, "vectorcall_helper@Objects/call.c:9", EVAL, "ext_func@ext.c:3"),
    python("<module>:30", "a:5", "b:8~", "c:11~"),
  );
  assert.deepEqual(show(merged), [
    "c:main",
    "py:<module>:30",
    "c:vectorcall_helper",
    "py:a:5",
    "py:b:8",
    "py:c:11",
    "c:ext_func",
  ]);
});

Deno.test("an eval loop that allocated before pushing its frame stays native", () => {
  const merged = mergeStacks(
    native("main@m.c:1", EVAL, EVAL, "_PyObject_Malloc@Objects/obmalloc.c:50"),
    python("<module>:1"),
  );
  assert.deepEqual(show(merged), [
    "c:main",
    "py:<module>:1",
    "c:_PyEval_EvalFrameDefault",
    "c:_PyObject_Malloc",
  ]);
  assert.deepEqual(show(dropCpythonInternal(merged)), ["c:main", "py:<module>:1"]);
});

Deno.test("leftover Python frames (stripped interpreter): the plain Python stack", () => {
  const stripped = native("main@m.c:1", "<unknown>", "<unknown>", "baz@ext.c:10");
  const py = python("<module>:20", "py_caller:12");
  assert.deepEqual(show(mergeStacks(stripped, py)), ["py:<module>:20", "py:py_caller:12"]);
  assert.deepEqual(show(mergeStacks([], py)), ["py:<module>:20", "py:py_caller:12"]);
  assert.deepEqual(show(mergeStacks(stripped, py, { launcher_frames: 1 })), ["py:py_caller:12"]);
  assert.deepEqual(mergeStacks([], []), []);
  // A thread without Python frames: its native stack as it is.
  assert.deepEqual(
    show(mergeStacks(native("start_thread@p.c:1", "worker@w.c:5", "allocate@w.c:2"), [])),
    [
      "c:start_thread",
      "c:worker",
      "c:allocate",
    ],
  );
});

Deno.test("main thread: launcher frames and the native frames outside them are cut", () => {
  const stack = native(
    "_start",
    "main@Programs/python.c:15",
    "Py_RunMain@Modules/main.c:700",
    EVAL,
    "_PyFunction_Vectorcall@Objects/call.c:300",
    EVAL,
    "PyEval_EvalCode@Python/ceval.c:1100",
    EVAL,
    "call_helper@Objects/call.c:9",
    EVAL,
    "caller@ext.c:4",
  );
  const py = python("_run_module_as_main:196", "_run_code:86", "<module>:3", "f:7");
  assert.deepEqual(show(mergeStacks(stack, py, { launcher_frames: 2 })), [
    "py:<module>:3",
    "c:call_helper",
    "py:f:7",
    "c:caller",
  ]);
  // Without the option (another thread) everything stays.
  assert.equal(mergeStacks(stack, py).length, stack.length);
  // 3.11+: the first user frame can be a non-entry frame inside the launcher's loop call.
  const inlined = mergeStacks(
    native("main@m.c:1", EVAL, "caller@ext.c:4"),
    python("launch:1", "launch_inner:2~", "<module>:3~", "f:7~"),
    { launcher_frames: 2 },
  );
  assert.deepEqual(show(inlined), ["py:<module>:3", "py:f:7", "c:caller"]);
  // More launcher frames than Python frames is clamped, never an error.
  assert.deepEqual(show(mergeStacks(native(EVAL), python("<module>:1"), { launcher_frames: 5 })), [
    "py:<module>:1",
  ]);
});

Deno.test("CPython-internal frames are dropped only when their file is CPython's", () => {
  const frames: MergedFrame[] = [
    { kind: "native", function: "_PyObject_Malloc", file: "Objects/obmalloc.c", line: 1 },
    { kind: "native", function: "PyByteArray_Resize", file: "Objects/bytearrayobject.c", line: 2 },
    { kind: "native", function: "_PyEval_EvalFrameDefault", file: "<unknown>", line: 0 },
    { kind: "native", function: "_Py_helper", file: "mine/ext.c", line: 3 },
    {
      kind: "native",
      function: "type_call",
      file: "/src/Python-3.12.1/Objects/typeobject.c",
      line: 4,
    },
    { kind: "python", function: "_Py_like", file: "Python/app.py", line: 5 },
  ];
  assert.deepEqual(dropCpythonInternal(frames).map((f) => f.function), [
    "PyByteArray_Resize",
    "_PyEval_EvalFrameDefault",
    "_Py_helper",
    "_Py_like",
  ]);
});
