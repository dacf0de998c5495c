/// <reference lib="dom" />
/**
 * The HTML reports of `--native` captures in real headless Chromium: the flame graph, the table
 * and the diff page of the C extension fixture (tests/native_symbols) show `baz`, `bar`, `foo`
 * with their files and lines, native frames coloured apart from Python ones; a native frame
 * without a source file keeps the native colour (named by its module).
 */
import { assert_, assertEquals } from "../support/assert.ts";
import { expectExit, memray, withTempDir } from "../integration/helpers.ts";
import { cLine, EXT_SOURCE, installExtension, SCRIPT } from "../native_symbols/native_fixtures.ts";
import { EXT_PATH, fakeNativeCapture, FakeSymbolizer } from "../native_symbols/fake_native.ts";
import type { ModuleMap } from "../../lib/capture/records.ts";
import type { NativeFrameLike } from "../../lib/analysis/merged_stacks.ts";
import { ReportStacks } from "../../lib/analysis/report_stacks.ts";
import { flamegraphPageData } from "../../reporters/flamegraph_html.ts";
import { renderHtmlPage } from "../../reporters/html/page.ts";
import { FLAG_NATIVE, frameKind } from "../../reporters/html/app/flamegraph/model.ts";
import { testId, withPage } from "./browser.ts";

const PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12";

interface DrawnNode {
  text: string;
  classes: string;
}

/** Every drawn flame node's label and classes. */
const DRAWN = `[...document.querySelectorAll('${testId("flame-node")}')]
  .map((e) => ({ text: e.textContent ?? "", classes: e.className }))`;

/** The drawn node whose label starts with `function at ` (exactly one). */
function drawn(nodes: DrawnNode[], label: string): DrawnNode {
  const found = nodes.filter((n) => n.text === label);
  assert_(found.length >= 1, `a node "${label}" among\n${nodes.map((n) => n.text).join("\n")}`);
  return found[0];
}

Deno.test({
  name: "flamegraph, table, diff --html of a --native capture show baz, bar, foo coloured native",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      await installExtension(PYTHON, dir);
      await Deno.writeTextFile(`${dir}/x.py`, SCRIPT);
      const run = await memray(
        ["run", "-q", "--native", "-o", `${dir}/n.bin`, "--python", PYTHON, "x.py"],
        { cwd: dir },
      );
      expectExit(run, 0, "memray run --native");
      const ext = async (name: string) =>
        `${name} at ${EXT_SOURCE}:${await cLine(EXT_SOURCE, name)}`;
      const labels = [await ext("baz"), await ext("bar"), await ext("foo"), await ext("run")];
      const flags = ["-f", "--temporary-allocations", "--no-debuginfod"];

      const fg = await memray(["flamegraph", ...flags, "-o", `${dir}/fg.html`, "n.bin"], {
        cwd: dir,
      });
      expectExit(fg, 0, "flamegraph");
      await withPage(`${dir}/fg.html`, async (p) => {
        assertEquals(p.errors, []);
        const nodes = await p.evaluate<DrawnNode[]>(DRAWN);
        for (const label of labels) {
          assert_(drawn(nodes, label).classes.includes("fg-native"), label);
        }
        // py_caller's node shows its source line, coloured as Python.
        const caller = nodes.find((n) => n.text.includes("# CALL:py_caller"));
        assert_(caller?.classes.includes("fg-python"), JSON.stringify(caller));
        assert_(!nodes.some((n) => n.text.includes("_PyEval_EvalFrameDefault")));
        await p.screenshot("native-flamegraph");
      });

      const table = await memray(["table", ...flags, "-o", `${dir}/t.html`, "n.bin"], {
        cwd: dir,
      });
      expectExit(table, 0, "table");
      await withPage(`${dir}/t.html`, async (p) => {
        assertEquals(p.errors, []);
        const rows = await p.texts(testId("table-row"));
        // The extension's malloc rows have baz, at its line, as their top frame.
        const baz = rows.filter((r) => r.includes(labels[0]));
        assertEquals(baz.length, 1, rows.join("\n"));
        assert_(baz[0].includes("malloc"), baz[0]);
      });

      const diff = await memray(
        ["diff", "--html", "--no-debuginfod", "-f", "-o", `${dir}/d.html`, "n.bin", "n.bin"],
        { cwd: dir },
      );
      expectExit(diff, 0, "diff --html");
      await withPage(`${dir}/d.html`, async (p) => {
        assertEquals(p.errors, []);
        const nodes = await p.evaluate<DrawnNode[]>(DRAWN);
        // The peak holds no extension allocation (it frees at once); its native frames show.
        assert_(
          nodes.some((n) => / at \S+\.c:\d+$/.test(n.text)),
          nodes.map((n) => n.text).join("\n"),
        );
      });
    }),
});

/** The fake symbolizer, with `bar` stripped of its file and line (symbols only). */
class NoFileForBar extends FakeSymbolizer {
  override symbolize(module: ModuleMap, offset: number): NativeFrameLike[] {
    return super.symbolize(module, offset).map((f) =>
      f.function === "bar" ? { ...f, file: "", line: 0 } : f
    );
  }
}

Deno.test("flame graph: a native frame without a file is named by its module, coloured native", async () => {
  const capture = fakeNativeCapture();
  const stacks = new ReportStacks({ debuginfod: false, symbolizer: () => new NoFileForBar() });
  try {
    const data = flamegraphPageData(capture, {
      capturePath: "fake.bin",
    }, await stacks.open(capture));
    const s = data.strings;
    const t = data.tree;
    const of = (name: string) => t.function.findIndex((f) => s[f] === name);
    const bar = of("bar");
    assert_(bar > 0, s.join(","));
    assertEquals([s[t.filename[bar]], t.lineno[bar]], [EXT_PATH, 0]);
    assert_((t.flags[bar] & FLAG_NATIVE) !== 0, "bar is flagged native");
    assertEquals(frameKind(s[t.filename[bar]], t.flags[bar]), "native");
    assertEquals(frameKind(s[t.filename[of("baz")]], t.flags[of("baz")]), "native");
    assertEquals(frameKind(s[t.filename[of("py_caller")]], t.flags[of("py_caller")]), "python");
    assertEquals(t.flags[of("py_caller")] & FLAG_NATIVE, 0);
    // In the page: bar's node has the native colour class, not "other".
    const dir = await Deno.makeTempDir({ prefix: "memray-native-fg-" });
    await Deno.writeTextFile(`${dir}/fg.html`, renderHtmlPage({ title: data.title, data }));
    await withPage(`${dir}/fg.html`, async (p) => {
      assertEquals(p.errors, []);
      const nodes = await p.evaluate<DrawnNode[]>(DRAWN);
      assert_(drawn(nodes, `bar at ${EXT_PATH}:0`).classes.includes("fg-native"));
      assert_(drawn(nodes, "baz at /src/ext.c:10").classes.includes("fg-native"));
    });
  } finally {
    stacks.close();
  }
});
