/** The browser harness itself, and the page shell, on small pages. */
import { assert_, assertEquals } from "../support/assert.ts";
import { type BrowserPage, testId, until, withPage } from "./browser.ts";
import { renderHtmlPage, scriptSafeJson } from "../../reporters/html/page.ts";

/** The pid of the page's browser (the Chromium process whose command line names its profile). */
async function browserPid(p: BrowserPage): Promise<number> {
  const session = await p.page.context().browser()!.newBrowserCDPSession();
  try {
    const info = await session.send("SystemInfo.getProcessInfo");
    const browser = info.processInfo.find((i: { type: string }) => i.type === "browser");
    return browser?.id ?? 0;
  } finally {
    await session.detach();
  }
}

/** True while process `pid` exists (and is not a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

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
    // The exception comes from a timer: wait for it rather than for a fixed time.
    const seen = () =>
      Promise.resolve([
        p.errors.some((e) => e.includes("bad thing")),
        p.errors.some((e) => e.includes("boom")),
      ]);
    await p.until(seen, [true, true], `the errors (got ${p.errors.join("; ")})`);
    assertEquals(p.requests, ["http://127.0.0.1:9/nothing.png"]);
  });
});

Deno.test("until waits for a value, and reports the last one when it never comes", async () => {
  let reads = 0;
  assertEquals(
    await until(() => Promise.resolve(++reads >= 3 ? "ready" : "not yet"), "ready"),
    "ready",
  );
  assertEquals(reads, 3);
  let error = "";
  try {
    await until(() => Promise.resolve([1, 2]), [1, 3], "the list", 100);
  } catch (e) {
    error = (e as Error).message;
  }
  assert_(error.startsWith("the list did not settle in 100 ms"), error);
  assert_(error.endsWith("expected [1,3], last read [1,2]"), error);
});

Deno.test("withPage closes Chromium when the test fails", async () => {
  const path = await writePage("<!DOCTYPE html><html><body>x</body></html>");
  let pid = 0;
  let error = "";
  try {
    await withPage(path, async (p) => {
      pid = await browserPid(p);
      assert_(await alive(pid), `the browser runs as pid ${pid}`);
      throw new Error("the test failed");
    });
  } catch (e) {
    error = (e as Error).message;
  }
  assertEquals(error, "the test failed");
  assert_(pid > 0, "found the browser's process");
  assertEquals(await alive(pid), false);
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
