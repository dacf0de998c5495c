import { assert_, assertEquals, assertRejects } from "../tests/support/assert.ts";
import { CaptureError, UsageError } from "../lib/capture/errors.ts";
import { readCaptureBytes } from "../lib/capture/reader.ts";
import { selectSnapshot } from "../lib/analysis/snapshot.ts";
import { buildCallTree, moduleName, percentColor, renderCallTree, runTree } from "./tree.ts";
import { stackCapture, StackFrame, Step } from "./testing/stack_capture.ts";

const BOOT: StackFrame = ["<module>", "/opt/memray_deno/bootstrap.py", 2];
const RUNPY: StackFrame = ["_run_module_as_main", "/usr/lib/python3.11/runpy.py", 198];
const APP: StackFrame = ["<module>", "/work/app/app.py", 5];
const MAIN: StackFrame = ["main", "/work/app/app.py", 20];
const EVAL: StackFrame = ["_PyEval_EvalFrameDefault", "Python/ceval.c", 0];

/** A peak with an import, a long chain, small locations, a worker thread and a freed block. */
function treeSteps(): Step[] {
  const launcher = [BOOT, RUNPY, APP, MAIN];
  return [
    { alloc: 0x7000, size: 9_000, stack: [...launcher, ["gone", "/work/app/app.py", 50]] },
    { free: 0x7000 },
    {
      alloc: 0x1000,
      size: 5_000_000,
      stack: [
        ...launcher,
        ["load", "/work/app/app.py", 30],
        ["_find_and_load", "<frozen importlib._bootstrap>", 1165],
        ["<module>", "/work/app/big.py", 3],
        EVAL,
        ["fill", "/work/app/big.py", 9],
      ],
    },
    {
      alloc: 0x2000,
      size: 3_000_000,
      stack: [
        ...launcher,
        ["a", "/work/app/chain.py", 40],
        ["b", "/work/app/chain.py", 50],
        ["c", "/work/app/lib/chain2.py", 60],
        ["d", "/work/app/lib/chain2.py", 70],
        ["e", "/work/app/lib/chain2.py", 80],
      ],
    },
    { alloc: 0x3000, size: 100, stack: [...launcher, ["s1", "/work/app/small.py", 1]] },
    { alloc: 0x4000, size: 200, stack: [...launcher, ["s2", "/work/app/small.py", 2]] },
    { alloc: 0x5000, size: 300, stack: [...launcher, ["s3", "/work/app/small.py", 3]] },
    { alloc: 0x5100, size: 300, stack: [...launcher, ["s3", "/work/app/small.py", 3]] },
    {
      alloc: 0x6000,
      size: 1_000_000,
      thread: 2,
      stack: [
        ["_run_code", "<frozen runpy>", 88],
        ["run", "/usr/lib/python3.11/site-packages/pool/worker.py", 8],
      ],
    },
  ];
}

async function captureFile(steps: Step[]): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/memray-app.py.1.bin`;
  await Deno.writeFile(path, stackCapture(steps, { command_line: "app.py --big" }));
  return { path, dir };
}

function collect(): { sink: (s: string) => void; text: () => string } {
  const parts: string[] = [];
  return { sink: (s) => parts.push(s), text: () => parts.join("") };
}

const strip = (s: string) => s.replace(new RegExp("\x1b\\[[0-9;]*m", "g"), "");

Deno.test("tree of the peak: biggest first, percentages, elided line, hidden frames", async (t) => {
  const { path, dir } = await captureFile(treeSteps());
  const out = collect();
  await runTree({ capturePath: path, biggestAllocs: 4, color: false, stdout: out.sink });
  const text = out.text();
  await t.assertSnapshot(text);
  const lines = text.split("\n");
  // Root holds everything, elided included: 5M + 3M + 1M + 600 + 200 + 100.
  assert_(lines.includes("📂 9.001MB (100.00 %) <ROOT>"), text);
  assert_(text.includes("❓ 300.000B (0.00 %) 2 allocations from 2 locations below"), text);
  // Launcher, runpy, import system and CPython-internal frames are gone; the freed block too.
  for (const hidden of ["bootstrap", "runpy", "_find_and_load", "_PyEval", "gone"]) {
    assertEquals(text.includes(hidden), false, hidden);
  }
  // The import system frame's children hang under its caller.
  const load = lines.findIndex((l) => l.includes(" load  app:30"));
  assert_(lines[load + 1].includes("<module>  big:3"), text);
  // Biggest first at every level; the 3-frame middle of a 5-frame chain is one line.
  assert_(lines.findIndex((l) => l.includes("load")) < lines.findIndex((l) => l.includes(" a ")));
  assert_(text.includes("[[3 frames hidden in 2 file(s)]]"), text);
  assert_(text.includes("📄 3.000MB (33.33 %) e  lib.chain2:80"), text);
  // Site-packages modules by their own name (the longest sys.path entry wins).
  assertEquals(
    moduleName("/usr/lib/python3.11/site-packages/pool/worker.py", [
      "/usr/lib/python3.11",
      "/usr/lib/python3.11/site-packages",
    ]),
    "pool.worker",
  );
  assertEquals(moduleName("/work/app/pkg/__init__.py", ["/work/app"]), "pkg");
  assertEquals(moduleName("/elsewhere/x.py", ["/work/app"]), "/elsewhere/x.py");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tree colours on a terminal and plain text otherwise", async () => {
  const { path, dir } = await captureFile(treeSteps());
  const plain = collect();
  await runTree({ capturePath: path, color: false, stdout: plain.sink });
  const tty = collect();
  await runTree({ capturePath: path, color: true, stdout: tty.sink });
  assertEquals(strip(tty.text()), plain.text());
  assert_(tty.text().includes(`${percentColor(100)}9.001MB (100.00 %)\x1b[0m`));
  assertEquals(plain.text().includes("\x1b"), false);
  assertEquals(percentColor(0), "\x1b[38;2;97;193;44m");
  assertEquals(percentColor(40), "\x1b[38;2;236;152;16m");
  assertEquals(percentColor(100), "\x1b[38;2;205;92;92m");
  assertEquals(percentColor(20), "\x1b[38;2;167;173;30m");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tree shows uninteresting frames on request and can drop the import system", () => {
  const capture = readCaptureBytes(stackCapture(treeSteps()), "x.bin");
  const snapshot = selectSnapshot(capture, { mode: "high_water_mark", merge_threads: false });
  const tree = buildCallTree(capture, snapshot.records, 200);
  const sysPath = ["/work/app"];
  const base = renderCallTree(tree, { color: false, sysPath });
  const all = renderCallTree(tree, {
    color: false,
    sysPath,
    showUninteresting: true,
    collapseChains: false,
  });
  assertEquals(base.includes("_run_code"), false);
  assert_(all.includes("_run_code  <frozen runpy>:88"), all);
  assert_(all.includes("_find_and_load  <frozen importlib._bootstrap>:1165"), all);
  const no_imports = renderCallTree(tree, { color: false, sysPath, hideImportSystem: true });
  assertEquals(no_imports.includes("big"), false);
  // Bytes below a hidden import still count in the root.
  assert_(no_imports.includes("9.001MB (100.00 %) <ROOT>"), no_imports);
  const full = renderCallTree(tree, { color: false, sysPath, collapseChains: false });
  assertEquals(full.includes("frames hidden"), false);
  for (const f of [" b  chain:50", " c  lib.chain2:60", " d  lib.chain2:70"]) {
    assert_(full.includes(f), f);
  }
  // Everything elided: only the root and one line.
  const tiny = buildCallTree(capture, snapshot.records, 1);
  assertEquals(tiny.elided.locations, snapshot.records.length - 1);
  assertEquals(buildCallTree(capture, [], 5).root.size_bytes, 0);
  assertEquals(
    renderCallTree(buildCallTree(capture, [], 5), { color: false }),
    "<No allocations>\n",
  );
});

Deno.test("tree of temporary allocations, and its refusals", async (t) => {
  const { path, dir } = await captureFile(treeSteps());
  const out = collect();
  await runTree({
    capturePath: path,
    temporaryAllocationThreshold: 1,
    color: false,
    stdout: out.sink,
  });
  await t.assertSnapshot(out.text());
  assert_(out.text().includes("📄 9.000kB (100.00 %) gone  app:50"), out.text());
  await assertRejects(
    () => runTree({ capturePath: path, biggestAllocs: 0 }),
    UsageError,
    "0 is an invalid positive int value",
  );
  const missing = await assertRejects(
    () => runTree({ capturePath: `${dir}/nope.bin`, stdout: () => {} }),
    CaptureError,
  );
  assertEquals(missing.message.split("\n").length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("children of hidden frames are sorted with their new siblings", () => {
  const runpy: StackFrame = ["_run_code", "<frozen runpy>", 88];
  const capture = readCaptureBytes(
    stackCapture([
      { alloc: 0x10, size: 1_000_000, thread: 2, stack: [runpy, ["w1", "/work/app/w.py", 1]] },
      { alloc: 0x20, size: 1_000_000, thread: 2, stack: [runpy, ["w2", "/work/app/w.py", 2]] },
      { alloc: 0x30, size: 1_500_000, thread: 3, stack: [["solo", "/work/app/solo.py", 1]] },
    ]),
    "x.bin",
  );
  const snapshot = selectSnapshot(capture, { mode: "high_water_mark", merge_threads: false });
  const text = renderCallTree(buildCallTree(capture, snapshot.records, 200), { color: false });
  // The hidden runpy frame (2 MB) would sort first; its children (1 MB each) must not.
  const names = text.split("\n").slice(1, 4).map((l) => /%\) (\S+)/.exec(l)?.[1]);
  assertEquals(names, ["solo", "w1", "w2"]);
});
