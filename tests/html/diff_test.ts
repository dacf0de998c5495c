/// <reference lib="dom" />
/** `memray diff --html`: the differential flame graph in real headless Chromium. */
import { assert_, assertEquals } from "../support/assert.ts";
import { diffPair } from "../../reporters/testing/diff_pair.ts";
import { diffPageData, runDiffHtml } from "../../reporters/diff_html.ts";
import { renderHtmlPage } from "../../reporters/html/page.ts";
import { FLAG_NATIVE } from "../../reporters/html/app/flamegraph/model.ts";
import { diffCaptures } from "../../lib/analysis/diff.ts";
import { ReportStacks } from "../../lib/analysis/report_stacks.ts";
import type { ModuleMap } from "../../lib/capture/records.ts";
import type { NativeFrameLike } from "../../lib/analysis/merged_stacks.ts";
import { EXT_PATH, fakeNativeCapture, FakeSymbolizer } from "../native_symbols/fake_native.ts";
import { testId, withPage } from "./browser.ts";
import { main } from "../../lib/cli/main.ts";

async function pair(): Promise<{ dir: string; base: string; now: string }> {
  const dir = await Deno.makeTempDir({ prefix: "memray-diff-" });
  const { base, now } = diffPair();
  await Deno.writeFile(`${dir}/memray-base.bin`, base);
  await Deno.writeFile(`${dir}/memray-new.bin`, now);
  return { dir, base: `${dir}/memray-base.bin`, now: `${dir}/memray-new.bin` };
}

Deno.test("diff page: widths from both captures, growth red, shrinkage blue, legend", async () => {
  const { base, now } = await pair();
  const out: string[] = [];
  const html = await runDiffHtml({ basePath: base, newPath: now, stdout: (s) => out.push(s) });
  assert_(html.endsWith("/memray-diff-new.html"), html);
  assertEquals(out, [`Wrote ${html}\n`]);
  await withPage(html, async (p) => {
    assertEquals(p.errors, []);
    assertEquals(p.requests, []);
    const nodes = await p.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll<HTMLElement>('[data-testid="flame-node"]')].map((e) => [
          e.textContent,
          { value: Number(e.dataset.value), color: e.style.background },
        ]),
      )
    );
    // build grew 2 MB -> 3 MB, load went away, cache shrank, fresh is new, the worker is equal.
    assertEquals(nodes["<root>"].value, 5_300_000);
    assertEquals(nodes["build at /work/app/app.py:13"].value, 3_000_000);
    assertEquals(nodes["load at /work/app/app.py:20"].value, 1_000_000);
    assert_(
      nodes["build at /work/app/app.py:13"].color.includes("220, 53, 69"),
      nodes["build at /work/app/app.py:13"].color,
    );
    assert_(
      nodes["load at /work/app/app.py:20"].color.includes("13, 110, 253"),
      nodes["load at /work/app/app.py:20"].color,
    );
    assert_(nodes["fresh at /work/app/app.py:50"].color.includes("220, 53, 69"));
    assert_(nodes["cache at /work/app/app.py:30"].color.includes("13, 110, 253"));
    assertEquals((await p.texts(testId("diff-total")))[0], "+300.0 kB");
    const legend = (await p.texts(testId("diff-legend")))[0];
    assert_(legend.includes("grew in new") && legend.includes("shrank in new"), legend);
    await p.page.locator('[data-testid="flame-node"]', { hasText: "build at" }).hover();
    const tooltip = p.page.locator(testId("flame-tooltip"), { hasText: "build" });
    await tooltip.waitFor();
    const tip = (await tooltip.textContent())!;
    assert_(
      tip.includes("base: 2.0 MB") && tip.includes("new: 3.0 MB") && tip.includes("+1.0 MB"),
      tip,
    );
    await p.screenshot("diff-flamegraph");
  });
});

Deno.test("memray diff --html writes the page, refuses to overwrite without -f", async () => {
  const { dir, base, now } = await pair();
  const out = `${dir}/d.html`;
  assertEquals(await main(["diff", base, now, "--html", "-o", out]), 0);
  assert_((await Deno.readTextFile(out)).includes('"kind":"diff"'));
  assertEquals(await main(["diff", base, now, "--html", "-o", out]), 1);
  assertEquals(await main(["diff", base, now, "--html", "-o", out, "-f", "--leaks"]), 0);
  assert_((await Deno.readTextFile(out)).includes("(memory leaks)"));
});

/** The fake symbolizer, with `bar` stripped of its file and line (symbols only). */
class NoFileForBar extends FakeSymbolizer {
  override symbolize(module: ModuleMap, offset: number): NativeFrameLike[] {
    return super.symbolize(module, offset).map((f) =>
      f.function === "bar" ? { ...f, file: "", line: 0 } : f
    );
  }
}

Deno.test("diff page: native frames, with or without a file, get the native colour", async () => {
  const capture = fakeNativeCapture();
  const stacks = new ReportStacks({ debuginfod: false, symbolizer: () => new NoFileForBar() });
  let html: string;
  try {
    const side = await stacks.open(capture);
    const diff = diffCaptures(capture, capture, "high_water_mark", { base: side, now: side });
    const data = diffPageData(diff, capture);
    const s = data.strings;
    const flagsOf = (name: string) =>
      data.tree.flags[data.tree.function.findIndex((f) => s[f] === name)];
    assert_((flagsOf("bar") & FLAG_NATIVE) !== 0, "bar is flagged native");
    assert_((flagsOf("baz") & FLAG_NATIVE) !== 0, "baz is flagged native");
    assertEquals(flagsOf("py_caller") & FLAG_NATIVE, 0);
    const dir = await Deno.makeTempDir({ prefix: "memray-native-diff-" });
    html = `${dir}/d.html`;
    await Deno.writeTextFile(html, renderHtmlPage({ title: data.title, data }));
  } finally {
    stacks.close();
  }
  await withPage(html, async (p) => {
    assertEquals(p.errors, []);
    await p.page.locator(testId("flame-node")).first().waitFor();
    const drawn = await p.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="flame-node"]')].map((e) => ({
        text: e.textContent ?? "",
        native: e.classList.contains("fg-diff-native"),
        edge: getComputedStyle(e).boxShadow,
      }))
    );
    const node = (label: string) => {
      const found = drawn.find((n) => n.text.startsWith(label));
      assert_(found !== undefined, `${label} among ${drawn.map((n) => n.text).join("; ")}`);
      return found;
    };
    // bar has no file: named by its module, native all the same (the light theme's #ffffcc).
    assert_(node(`bar at ${EXT_PATH}:0`).native, JSON.stringify(drawn));
    assert_(node(`bar at ${EXT_PATH}:0`).edge.includes("rgb(255, 255, 204)"), node("bar").edge);
    assert_(node("baz at /src/ext.c:10").native);
    assert_(!node("<root>").native);
    assert_(drawn.some((n) => !n.native && n.text !== "<root>"), "some frames are Python");
    assertEquals(
      drawn.filter((n) => !n.native).map((n) => n.edge),
      drawn.filter((n) => !n.native).map(() => "none"),
    );
    await p.screenshot("diff-native");
  });
});
