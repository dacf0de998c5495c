import { assert_, assertEquals } from "../../../tests/support/assert.ts";
import { readCaptureBytes } from "../../../lib/capture/reader.ts";
import { selectSnapshot } from "../../../lib/analysis/snapshot.ts";
import { syntheticCapture } from "../../../tests/support/synthetic.ts";
import { stackCapture, StackFrame, Step } from "../../testing/stack_capture.ts";
import { StringTable } from "./common.ts";
import { buildFlameTree, type FlameLocation, foldTree } from "./flamegraph_data.ts";
import {
  buildView,
  FLAG_IMPORT_SYSTEM,
  FLAG_INTERESTING,
  FLAG_OTHER,
  type FlameTree,
  type ViewNode,
} from "../app/flamegraph/model.ts";

const BOOT: StackFrame = ["<module>", "/opt/memray_deno/bootstrap.py", 2];
const RUNPY: StackFrame = ["_run_module_as_main", "/usr/lib/python3.11/runpy.py", 198];
const APP: StackFrame = ["<module>", "/work/app/app.py", 5];
const LOAD: StackFrame = ["load", "/work/app/app.py", 30];
const IMPORT: StackFrame = ["_find_and_load", "<frozen importlib._bootstrap>", 1165];
const EVAL: StackFrame = ["_PyEval_EvalFrameDefault", "Python/ceval.c", 0];

/** A peak with an import (and a CPython-internal frame below it) and a worker thread. */
function steps(): Step[] {
  const launcher = [BOOT, RUNPY, APP];
  return [
    {
      alloc: 0x1000,
      size: 5_000,
      stack: [...launcher, LOAD, IMPORT, ["<module>", "/work/app/big.py", 3], EVAL, [
        "fill",
        "/work/app/big.py",
        9,
      ]],
    },
    { alloc: 0x2000, size: 3_000, stack: [...launcher, ["main", "/work/app/app.py", 20]] },
    { alloc: 0x3000, size: 1_000, stack: [...launcher, ["main", "/work/app/app.py", 20]] },
    { alloc: 0x4000, size: 700, thread: 2, stack: [["run", "/work/app/worker.py", 8]] },
  ];
}

function locationsOf(
  bytes: Uint8Array,
  merge_threads: boolean,
  mode: "high_water_mark" | "leaks" = "high_water_mark",
) {
  const capture = readCaptureBytes(bytes, "test.bin");
  const locations: FlameLocation[] = selectSnapshot(capture, { mode, merge_threads }).records.map((
    r,
  ) => ({
    ...r,
    hide_launcher: r.thread_id === capture.main_thread_id,
  }));
  return { capture, locations };
}

/** The tree as indented lines "name file:line value/count [flags] {thread}". */
function dump(tree: FlameTree, strings: string[]): string[] {
  const lines: string[] = [];
  const kids = tree.parent.map(() => [] as number[]);
  for (let i = 1; i < tree.parent.length; i++) kids[tree.parent[i]].push(i);
  const walk = (i: number, depth: number) => {
    const f = tree.flags[i];
    const flags = `${f & FLAG_INTERESTING ? "i" : "-"}${f & FLAG_IMPORT_SYSTEM ? "m" : "-"}${
      f & FLAG_OTHER ? "o" : "-"
    }`;
    lines.push(
      `${"  ".repeat(depth)}${strings[tree.function[i]]} ${strings[tree.filename[i]]}:${
        tree.lineno[i]
      } ` +
        `${tree.value[i]}/${tree.n_allocations[i]} ${flags} {${strings[tree.thread[i]]}}`,
    );
    for (const c of kids[i]) walk(c, depth + 1);
  };
  walk(0, 0);
  return lines;
}

Deno.test("flame tree of the peak: root, frames, flags, CPython-internal frames dropped", async (t) => {
  const { capture, locations } = locationsOf(stackCapture(steps()), true);
  const strings = new StringTable();
  const built = buildFlameTree(capture, locations, strings, {
    inverted: false,
    merge_threads: true,
  });
  const lines = dump(built.tree, strings.strings);
  await t.assertSnapshot(lines);
  assertEquals(lines[0], "<root> <tracker>:0 9700/4 i-- {0x0}");
  assert_(
    !lines.some((l) => l.includes("_PyEval") || l.includes("bootstrap.py") || l.includes("gone")),
    lines.join("\n"),
  );
  // The import system flag passes down to callees; they are not "interesting".
  assert_(
    lines.some((l) => l.trim().startsWith("fill /work/app/big.py:9 5000/1 -m-")),
    lines.join("\n"),
  );
  // Every location ends at a node holding it.
  assertEquals(built.tree.location_node.length, locations.length);
  assertEquals(built.folded_nodes, 0);
});

Deno.test("flame tree: split threads key children by thread; inverted puts allocators first", async (t) => {
  const split = locationsOf(stackCapture(steps()), false);
  const s1 = new StringTable();
  const a = buildFlameTree(split.capture, split.locations, s1, {
    inverted: false,
    merge_threads: false,
  });
  const threads = new Set(a.tree.thread.slice(1).map((i) => s1.strings[i]));
  assertEquals([...threads].sort(), ["0x1", "0x2"]);
  const s2 = new StringTable();
  const merged = locationsOf(stackCapture(steps()), true);
  const inv = buildFlameTree(merged.capture, merged.locations, s2, {
    inverted: true,
    merge_threads: true,
  });
  const lines = dump(inv.tree, s2.strings);
  await t.assertSnapshot(lines);
  assert_(lines[1].startsWith("  fill /work/app/big.py:9 5000/1"), lines.join("\n"));
  // Inverted: the import flag is not passed on, so callers of an import frame stay interesting.
  assert_(lines.some((l) => l.includes("load /work/app/app.py:30 5000/1 i--")), lines.join("\n"));
  const s3 = new StringTable();
  const cut = buildFlameTree(merged.capture, merged.locations, s3, {
    inverted: true,
    merge_threads: true,
    drop_import_system: true,
  });
  const cut_lines = dump(cut.tree, s3.strings);
  // Stacks end at the importing caller: import frames and what they ran are gone, bytes stay.
  assert_(
    !cut_lines.some((l) => l.includes("importlib") || l.includes("big.py")),
    cut_lines.join("\n"),
  );
  assert_(
    cut_lines.includes("  load /work/app/app.py:30 5000/1 i-- {merged thread}"),
    cut_lines.join("\n"),
  );
  assertEquals(cut.tree.value[0], 9700);
});

Deno.test("views: hiding irrelevant frames lifts children, hiding imports drops bytes, thread filter", () => {
  const { capture, locations } = locationsOf(stackCapture(steps()), false);
  const strings = new StringTable();
  const { tree } = buildFlameTree(capture, locations, strings, {
    inverted: false,
    merge_threads: false,
  });
  const names = (n: ViewNode): string[] =>
    n.children.map((c) => strings.strings[tree.function[c.id]]);
  const all = buildView(tree, { hide_irrelevant: false, hide_import_system: false, thread: -1 });
  assertEquals(all.value, 9700);
  const shown = buildView(tree, { hide_irrelevant: true, hide_import_system: false, thread: -1 });
  assertEquals(shown.value, 9700);
  const app = shown.children.find((c) => strings.strings[tree.function[c.id]] === "<module>")!;
  const load = app.children.find((c) => strings.strings[tree.function[c.id]] === "load")!;
  // _find_and_load and big.py's frames are import system: their children move up... and are
  // themselves import system, so nothing is drawn below load, whose bytes stay.
  assertEquals(load.value, 5000);
  assertEquals(names(load), []);
  const no_imports = buildView(tree, {
    hide_irrelevant: true,
    hide_import_system: true,
    thread: -1,
  });
  assertEquals(no_imports.value, 4700);
  const worker = strings.strings.indexOf("0x2");
  const only_worker = buildView(tree, {
    hide_irrelevant: false,
    hide_import_system: false,
    thread: worker,
  });
  assertEquals(only_worker.value, 700);
  assertEquals(names(only_worker), ["run"]);
});

Deno.test("folding: small children of big trees become one <other> node per parent and thread", () => {
  const bytes = syntheticCapture(20_000);
  const { capture, locations } = locationsOf(bytes, true, "leaks");
  // Many small siblings: give each location its own fake deep stack by reusing real stacks.
  const strings = new StringTable();
  const unfolded = buildFlameTree(capture, locations, strings, {
    inverted: false,
    merge_threads: true,
    max_nodes: 1e9,
  });
  assert_(unfolded.tree.parent.length > 1);
  const folded = foldTree(unfolded.tree, strings, 2);
  assert_(folded.tree.parent.length <= 2, `${folded.tree.parent.length} nodes`);
  assertEquals(folded.tree.value[0], unfolded.tree.value[0]);
  assert_(folded.folded_nodes > 0);
  const other = folded.tree.flags.findIndex((f) => (f & FLAG_OTHER) !== 0);
  assertEquals(folded.tree.value[other], unfolded.tree.value[0]);
  assertEquals(folded.tree.lineno[other], unfolded.tree.parent.length - 1);
  for (const n of folded.tree.location_node) assert_(n === other || n === 0);
});

Deno.test("flame tree: source lines of readable files are embedded per frame, trimmed", () => {
  const { capture, locations } = locationsOf(stackCapture(steps()), true);
  const strings = new StringTable();
  const lines = Array.from({ length: 40 }, (_, i) => `    line_${i + 1}()  `);
  const { tree } = buildFlameTree(capture, locations, strings, {
    inverted: false,
    merge_threads: true,
    sourceLines: (file) => (file === "/work/app/app.py" ? lines : undefined),
  });
  const main = tree.function.findIndex((f) => strings.strings[f] === "main");
  assertEquals(strings.strings[tree.source[main]], "line_20()");
  const fill = tree.function.findIndex((f) => strings.strings[f] === "fill");
  assertEquals(tree.source[fill], -1);
});
