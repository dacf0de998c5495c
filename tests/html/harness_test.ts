/** The browser harness itself, and the page shell, on small pages. */
import { assert_, assertEquals } from "../support/assert.ts";
import { testId, withPage } from "./browser.ts";
import { renderHtmlPage, scriptSafeJson } from "../../reporters/html/page.ts";

async function writePage(html: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "memray-html-" });
  const path = `${dir}/page.html`;
  await Deno.writeTextFile(path, html);
  return path;
}

Deno.test("withPage clicks, types, reads text and saves a screenshot", async () => {
  const path = await writePage(`<!DOCTYPE html><html><body>
    <button data-testid="b" onclick="this.textContent = String(Number(this.textContent) + 1)">0</button>
    <input data-testid="i" oninput="document.title = this.value">
    </body></html>`);
  const shot = await withPage(path, async (p) => {
    await p.click(testId("b"));
    await p.click(testId("b"));
    assertEquals(await p.texts(testId("b")), ["2"]);
    await p.type(testId("i"), "typed");
    assertEquals(await p.page.title(), "typed");
    assertEquals(p.errors, []);
    assertEquals(p.requests, []);
    return await p.screenshot("harness-trivial");
  });
  const png = await Deno.readFile(shot);
  assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
});

Deno.test("withPage collects console errors, exceptions and network requests", async () => {
  const path = await writePage(`<!DOCTYPE html><html><body>
    <img src="http://127.0.0.1:9/nothing.png">
    <script>console.error("bad thing"); setTimeout(() => { throw new Error("boom"); });</script>
    </body></html>`);
  await withPage(path, async (p) => {
    await p.page.waitForTimeout(100);
    assert_(p.errors.some((e) => e.includes("bad thing")), p.errors.join("; "));
    assert_(p.errors.some((e) => e.includes("boom")), p.errors.join("; "));
    assertEquals(p.requests, ["http://127.0.0.1:9/nothing.png"]);
  });
});

Deno.test("renderHtmlPage embeds data that cannot close its script element", async () => {
  const data = { kind: "nonsense", title: "</script><script>alert(1)</script> \u2028 &" };
  const html = renderHtmlPage({ title: data.title, data });
  assert_(!html.includes("</script><script>alert"), "the title and data are escaped");
  assertEquals(JSON.parse(scriptSafeJson(data)), data);
  const path = await writePage(html);
  await withPage(path, async (p) => {
    // The app reads the data back intact and refuses the unknown kind with one message.
    const alert = await p.texts("[role=alert]");
    assertEquals(alert, ['Cannot show this report: unknown kind "nonsense".']);
    assertEquals(await p.page.title(), data.title);
    assertEquals(p.errors, ['console: Cannot show this report: unknown kind "nonsense".']);
    assertEquals(p.requests, []);
  });
});

Deno.test("the app reports damaged embedded data", async () => {
  const html = renderHtmlPage({ title: "t", data: { kind: "table" } })
    .replace(/(id="memray-data">)[^<]*/, "$1{not json");
  await withPage(await writePage(html), async (p) => {
    assertEquals(await p.texts("[role=alert]"), [
      "Cannot show this report: its embedded data is missing or damaged.",
    ]);
  });
});
