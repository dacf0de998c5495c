/// <reference lib="dom" />
/** `memray diff --html`: the differential flame graph in real headless Chromium. */
import { assert_, assertEquals } from "../support/assert.ts";
import { diffPair } from "../../reporters/testing/diff_pair.ts";
import { runDiffHtml } from "../../reporters/diff_html.ts";
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
    const tip = (await p.texts(testId("flame-tooltip")))[0];
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
