/** `memray table` pages in headless Chromium, and the command's errors. */
import { assert_, assertEquals } from "../support/assert.ts";
import { runMemray } from "../cli/helpers.ts";
import { type BrowserPage, testId, withPage } from "./browser.ts";
import { LOC, writeTableCapture } from "./table_capture.ts";
import { runTableHtml, type TableHtmlOptions } from "../../reporters/table_html.ts";
import { renderHtmlPage } from "../../reporters/html/page.ts";
import { StringTable, type TablePageData } from "../../reporters/html/data/common.ts";

/** Writes the fixture's table page with `options`; returns the HTML path. */
async function tablePage(options: Partial<TableHtmlOptions> = {}): Promise<string> {
  const capture = await writeTableCapture();
  return await runTableHtml({ capturePath: capture, stdout: () => {}, ...options });
}

/** The visible rows as arrays of cell texts. */
async function cells(p: BrowserPage): Promise<string[][]> {
  return await p.evaluate(`Array.from(document.querySelectorAll('${testId("table-row")}'),
    (r) => Array.from(r.children, (c) => c.textContent))`);
}

function column(rows: string[][], i: number): string[] {
  return rows.map((r) => r[i]);
}

Deno.test("the table page shows the peak's rows with no errors and no network", async () => {
  const html = await tablePage();
  assertEquals(html.split("/").pop(), "memray-table-fixture.html");
  await withPage(html, async (p) => {
    assertEquals(await p.texts("thead th"), ["Size ▼", "Allocator", "Allocations", "Location"]);
    assertEquals(await cells(p), [
      ["2.0 MB", "malloc", "1", LOC.worker],
      ["1.3 MB", "malloc", "4", LOC.make_list],
      ["65.5 kB", "mmap", "1", LOC.none],
      ["4.1 kB", "pymalloc_malloc", "1", LOC.make_dict],
    ]);
    assertEquals(await p.texts(testId("navbar-title")), ["memray table report"]);
    assertEquals(await p.texts(testId("table-info")), ["Showing 1 to 4 of 4 entries"]);
    await p.click(testId("stats-button"));
    await p.until(() => p.texts(testId("stat-command-line")), ["app.py --fixture"], "the stats");
    assertEquals(await p.texts(testId("stat-peak-memory-usage")), ["3.4 MB"]);
    assertEquals(await p.texts(testId("stat-total-number-of-allocations")), ["10"]);
    await p.screenshot("table-stats");
    await p.page.keyboard.press("Escape");
    await p.until(() => p.page.locator(testId("stats-panel")).count(), 0, "closing the stats");
    await p.screenshot("table-peak");
    assertEquals(p.errors, []);
    assertEquals(p.requests, []);
  });
});

Deno.test("clicking a header sorts; sizes sort by bytes, not by text", async () => {
  await withPage(await tablePage(), async (p) => {
    const col = (i: number) => async () => column(await cells(p), i);
    await p.click(testId("sort-size"));
    await p.until(col(0), ["4.1 kB", "65.5 kB", "1.3 MB", "2.0 MB"], "sorting by size");
    assertEquals(await p.page.locator("th[aria-sort=ascending]").textContent(), "Size ▲");
    await p.click(testId("sort-location"));
    await p.until(col(3), [LOC.none, LOC.make_dict, LOC.make_list, LOC.worker], "by location");
    await p.click(testId("sort-count"));
    await p.until(col(2), ["4", "1", "1", "1"], "by count");
    // The sort is in the URL fragment: a reload keeps it.
    assert_((await p.evaluate<string>("location.hash")).includes("sort=count"));
    await p.page.reload();
    await p.until(col(2), ["4", "1", "1", "1"], "after a reload");
    assertEquals(p.errors, []);
  });
});

Deno.test("the search box filters rows", async () => {
  await withPage(await tablePage(), async (p) => {
    const locations = async () => column(await cells(p), 3);
    await p.type(testId("table-search"), "MAKE_");
    await p.until(locations, [LOC.make_list, LOC.make_dict], "searching");
    assertEquals(await p.texts(testId("table-info")), [
      "Showing 1 to 2 of 2 entries (filtered from 4)",
    ]);
    await p.type(testId("table-search"), "mmap");
    await p.until(locations, [LOC.none], "searching again");
    await p.screenshot("table-search");
    await p.type(testId("table-search"), "no such thing");
    await p.until(() => cells(p), [], "a search without matches");
    assertEquals(await p.texts(testId("table-empty")), ["No rows match the search."]);
    assertEquals(p.errors, []);
  });
});

Deno.test("--split-threads adds the thread column", async () => {
  await withPage(await tablePage({ splitThreads: true }), async (p) => {
    assertEquals(await p.texts("thead th"), [
      "Thread ID",
      "Size ▼",
      "Allocator",
      "Allocations",
      "Location",
    ]);
    const rows = await cells(p);
    assertEquals(rows.filter((r) => r[4] === LOC.make_list).map((r) => [r[0], r[1]]), [
      ["0x1 (MainThread)", "1.0 MB"],
      ["0x2 (Worker-1)", "300.0 kB"],
    ]);
    await p.type(testId("table-search"), "worker-1");
    await p.until(async () => column(await cells(p), 4), [LOC.worker, LOC.make_list], "search");
    await p.screenshot("table-split-threads");
    assertEquals(p.errors, []);
  });
});

Deno.test("--leaks pages say so and warn about pymalloc", async () => {
  await withPage(await tablePage({ leaks: true }), async (p) => {
    assertEquals(await p.texts(testId("navbar-title")), ["memray table report (memory leaks)"]);
    assert_((await p.texts(testId("notes")))[0].includes("--trace-python-allocators"));
    assertEquals(column(await cells(p), 3).includes(LOC.worker), false);
    assertEquals(p.errors, []);
  });
});

Deno.test("the theme toggle switches light and dark and remembers the choice", async () => {
  await withPage(await tablePage(), async (p) => {
    const theme = () => p.evaluate<string>("document.documentElement.dataset.theme");
    const background = () => p.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    assertEquals(await theme(), "light");
    const light_bg = await background();
    await p.click(testId("theme-toggle"));
    await p.until(theme, "dark", "the theme toggle");
    assert_((await background()) !== light_bg, "the colours change");
    assertEquals(await p.evaluate('localStorage.getItem("memray-theme")'), "dark");
    await p.screenshot("table-dark");
    await p.page.reload();
    assertEquals(await theme(), "dark");
    await p.click(testId("theme-toggle"));
    await p.until(theme, "light", "toggling back");
    assertEquals(p.errors, []);
  });
});

Deno.test("without a saved choice the OS theme applies", async () => {
  await withPage(await tablePage(), async (p) => {
    assertEquals(await p.evaluate<string>("document.documentElement.dataset.theme"), "dark");
  }, { colorScheme: "dark" });
});

Deno.test("the memory plot offers its data as CSV", async () => {
  await withPage(await tablePage(), async (p) => {
    const [download] = await Promise.all([
      p.page.waitForEvent("download"),
      p.click(testId("csv-button")),
    ]);
    assertEquals(download.suggestedFilename(), "usage_over_time.csv");
    const text = await Deno.readTextFile(await download.path());
    const lines = text.trim().split("\n");
    assertEquals(lines[0], "trace,timestamp,memory_size_bytes");
    assertEquals(lines.length, 1 + 2 * 4);
    assertEquals(lines[3], "Resident size,2023-11-14T22:13:21.000Z,15000000");
    assertEquals(lines[7], "Heap size,2023-11-14T22:13:21.000Z,3393888");
    assertEquals(p.errors, []);
  });
});

/** A page of `n` distinct rows (sizes 1..n bytes), built directly. */
async function bigTablePage(n: number): Promise<string> {
  const strings = new StringTable();
  const rows: TablePageData["rows"] = {
    thread: [],
    size_bytes: [],
    allocator: [],
    n_allocations: [],
    location: [],
  };
  for (let i = 0; i < n; i++) {
    rows.thread.push(strings.intern(""));
    rows.size_bytes.push(n - i);
    rows.allocator.push(strings.intern(i % 3 ? "malloc" : "pymalloc_malloc"));
    rows.n_allocations.push(1 + (i % 7));
    rows.location.push(strings.intern(`f${i} at /app/m${i % 100}.py:${i}`));
  }
  const t0 = 1_700_000_000_000;
  const time_ms = Array.from({ length: 2000 }, (_, i) => t0 + i * 10);
  const data: TablePageData = {
    kind: "table",
    title: "memray table report",
    mode: "high_water_mark",
    merge_threads: true,
    stats: {
      command: "big",
      start_ms: t0,
      end_ms: t0 + 20_000,
      peak_bytes: 1,
      python_allocator: "malloc",
    },
    memory: {
      time_ms,
      rss_bytes: time_ms.map((_, i) => 1e6 + i),
      heap_bytes: time_ms.map((_, i) => i),
      downsampled_from: 50_000,
      peak_heap_index: 1999,
      peak_rss_index: 1999,
    },
    notes: [],
    rows,
    strings: strings.strings,
  };
  const dir = await Deno.makeTempDir({ prefix: "memray-table-" });
  await Deno.writeTextFile(`${dir}/big.html`, renderHtmlPage({ title: data.title, data }));
  return `${dir}/big.html`;
}

// Behaviour only: timings belong in bench/ (ratios in one run), never in a test on a shared machine.
Deno.test("100,000 rows load, sort, search and page", async () => {
  await withPage(await bigTablePage(100_000), async (p) => {
    assertEquals(await p.page.locator(testId("table-row")).count(), 100);
    assertEquals(await p.texts(testId("table-info")), ["Showing 1 to 100 of 100,000 entries"]);
    assertEquals(await p.texts(testId("plot-downsampled")), ["2,000 points of 50,000 samples"]);
    await p.click(testId("sort-size"));
    await p.page.locator(`${testId("table-row")} >> nth=0 >> text="1 B"`).waitFor();
    await p.page.locator(testId("table-search")).fill("m42.py");
    await p.page.locator(testId("table-info")).filter({ hasText: "of 1,000 entries" }).waitFor();
    await p.click(testId("page-next"));
    await p.until(() => p.texts(testId("page-number")), ["Page 2 of 10"], "the next page");
    await p.screenshot("table-100k");
    assertEquals(p.errors, []);
  });
});

Deno.test("memray table refuses an existing output without -f, and bad captures", async () => {
  const capture = await writeTableCapture("memray-app.bin");
  const dir = capture.slice(0, capture.lastIndexOf("/"));
  const first = await runMemray(["table", capture]);
  assertEquals(first.code, 0, first.stderr);
  assertEquals(first.stdout.trim(), `Wrote ${dir}/memray-table-app.html`);
  const again = await runMemray(["table", capture]);
  assertEquals(again.code, 1);
  assertEquals(
    again.stderr.trim(),
    `memray: File already exists, will not overwrite without --force: ${dir}/memray-table-app.html`,
  );
  assertEquals((await runMemray(["table", "-f", capture])).code, 0);
  const missing = await runMemray(["table", `${dir}/nope.bin`]);
  assertEquals([missing.code, missing.stderr.trim()], [1, `memray: No such file: ${dir}/nope.bin`]);
  const junk = `${dir}/junk.bin`;
  await Deno.writeTextFile(junk, "not a capture at all");
  const bad = await runMemray(["table", junk, "-o", `${dir}/junk.html`]);
  assertEquals(bad.code, 1);
  assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert_(bad.stderr.includes(junk), bad.stderr);
  const both = await runMemray(["table", "--leaks", "--temporary-allocations", capture, "-f"]);
  assertEquals(both.code !== 0, true);
  assert_(/--leaks|--temporary-allocations/.test(both.stderr), both.stderr);
});
