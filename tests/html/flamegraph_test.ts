/// <reference lib="dom" />
/** The flame graph page in real headless Chromium: contents, zoom, search, threads, time ranges. */
import { assert_, assertEquals } from "../support/assert.ts";
import { CaptureEncoder } from "../support/capture_encoder.ts";
import { locationTable } from "../support/fake_capture.ts";
import { stackCapture, type StackFrame, type Step } from "../../reporters/testing/stack_capture.ts";
import { runFlamegraph } from "../../reporters/flamegraph_html.ts";
import { type BrowserPage, testId, withPage } from "./browser.ts";

const BOOT: StackFrame = ["<module>", "/opt/memray_deno/bootstrap.py", 2];
const APP: StackFrame = ["<module>", "/work/app/app.py", 5];
const MAIN: StackFrame = ["main", "/work/app/app.py", 20];

function steps(): Step[] {
  return [
    { alloc: 0x1000, size: 5_000, stack: [BOOT, APP, MAIN, ["fill", "/work/app/big.py", 9]] },
    { alloc: 0x2000, size: 3_000, stack: [BOOT, APP, MAIN, ["grow", "/work/app/app.py", 33]] },
    { alloc: 0x3000, size: 700, thread: 2, stack: [["run", "/work/app/worker.py", 8]] },
  ];
}

/** Allocations between RSS samples: A stays, B is freed after the heap's peak, C stays. */
function temporalCapture(): Uint8Array {
  const enc = new CaptureEncoder({
    python_hexversion: 0x030b07f0,
    start_time_ms: 1_700_000_000_000,
    end_time_ms: 1_700_000_000_500,
    metadata: { command_line: "t.py", python_version: "3.11.7", main_thread_id: 1 },
  });
  const t = enc.thread(1);
  ["a", "b", "c"].forEach((name, k) =>
    t.code({
      code_id: k + 1,
      first_line: 10 * (k + 1),
      name,
      filename: "/work/t.py",
      linetable: locationTable([0]),
    })
  );
  const at = (code_id: number, pops: number) =>
    t.pyStack(pops, [{ code_id, instr_offset_bytes: 0, is_entry: true }]);
  at(1, 0);
  t.alloc(1, 0xa000, 1000);
  enc.sampler.rss(100, 10_000_000);
  at(2, 1);
  t.alloc(1, 0xb000, 5000);
  enc.sampler.rss(200, 11_000_000);
  t.free(0xb000);
  at(3, 1);
  t.alloc(1, 0xc000, 3000);
  enc.sampler.rss(300, 12_000_000);
  enc.sampler.rss(400, 12_000_000);
  return enc.finish();
}

async function report(bytes: Uint8Array, flags: Record<string, unknown> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "memray-fg-" });
  await Deno.writeFile(`${dir}/memray-app.bin`, bytes);
  return await runFlamegraph({ capturePath: `${dir}/memray-app.bin`, stdout: () => {}, ...flags });
}

/** label -> bytes of every drawn node (once the chart has drawn). */
async function nodes(p: BrowserPage): Promise<Record<string, number>> {
  await p.page.locator(testId("flame-node")).first().waitFor();
  return await p.evaluate(() => {
    const out: Record<string, number> = {};
    for (const e of document.querySelectorAll<HTMLElement>('[data-testid="flame-node"]')) {
      out[e.textContent ?? ""] = Number(e.dataset.value);
    }
    return out;
  });
}

const total = async (p: BrowserPage) => (await p.texts(testId("flame-total")))[0];

/** The bytes of the drawn nodes named in `labels` (undefined: not drawn). */
const some = (p: BrowserPage, ...labels: string[]) => async (): Promise<(number | undefined)[]> => {
  const drawn = await nodes(p);
  return labels.map((l) => drawn[l]);
};

Deno.test("flame graph page: labels and bytes, zoom with history, search, thread filter", async () => {
  const html = await report(stackCapture(steps()), { splitThreads: true });
  assert_(html.endsWith("memray-flamegraph-app.html"), html);
  await withPage(html, async (p) => {
    assertEquals(p.errors, []);
    assertEquals(p.requests, []);
    const drawn = await nodes(p);
    assertEquals(drawn["<root>"], 8700);
    assertEquals(drawn["<module> at /work/app/app.py:5"], 8000);
    assertEquals(drawn["main at /work/app/app.py:20"], 8000);
    assertEquals(drawn["fill at /work/app/big.py:9"], 5000);
    assertEquals(drawn["run at /work/app/worker.py:8"], 700);
    assert_(!Object.keys(drawn).some((k) => k.includes("bootstrap")), Object.keys(drawn).join());
    assertEquals(await total(p), "8.7 kB in 3 allocations");
    await p.screenshot("flamegraph-peak");

    // Click to zoom: the fragment names the node, the node spans the chart, back undoes it.
    await p.page.locator('[data-testid="flame-node"]', { hasText: "grow at" }).click();
    await p.until(some(p, "fill at /work/app/big.py:9"), [undefined], "zooming");
    const hash = await p.evaluate(() => location.hash);
    assert_(/^#node=\d+$/.test(hash), hash);
    const widths = await p.evaluate(() => {
      const chart = document.querySelector('[data-testid="flame-chart"]')!.clientWidth;
      const zoomed = document.querySelector<HTMLElement>(".fg-zoom")!;
      return { chart, node: zoomed.getBoundingClientRect().width, label: zoomed.textContent };
    });
    assertEquals(widths.label, "grow at /work/app/app.py:33");
    assert_(Math.abs(widths.chart - widths.node) <= 2, JSON.stringify(widths));
    await p.screenshot("flamegraph-zoomed");
    await p.page.goBack();
    await p.page.waitForFunction(() => location.hash === "");
    await p.until(some(p, "fill at /work/app/big.py:9"), [5000], "back");
    await p.page.goForward();
    await p.page.waitForFunction((h) => location.hash === h, hash);
    await p.until(some(p, "fill at /work/app/big.py:9"), [undefined], "forward");
    await p.page.keyboard.press("Escape");
    await p.page.waitForFunction(() => location.hash === "");
    await p.until(some(p, "fill at /work/app/big.py:9"), [5000], "Escape");

    // Search highlights the matches and totals them.
    await p.type(testId("search"), "app.py");
    const hits = () =>
      p.evaluate(() => [...document.querySelectorAll(".fg-hit")].map((e) => e.textContent).sort());
    await p.until(hits, [
      "<module> at /work/app/app.py:5",
      "grow at /work/app/app.py:33",
      "main at /work/app/app.py:20",
    ], "search");
    await p.until(() => p.texts(testId("search-total")), ["3 matches, 8.0 kB (92.0 %)"]);
    await p.screenshot("flamegraph-search");
    await p.type(testId("search"), "");
    await p.until(hits, [], "clearing the search");

    // The thread filter keeps one thread's nodes and totals.
    const options = await p.texts(`${testId("thread-filter")} option`);
    assertEquals(options, ["All threads", "0x1", "0x2"]);
    await p.page.selectOption(testId("thread-filter"), { label: "0x2" });
    await p.until(() => total(p), "700 B in 1 allocation", "the thread filter");
    await p.until(async () => Object.keys(await nodes(p)).sort(), [
      "<root>",
      "run at /work/app/worker.py:8",
    ]);
    assertEquals(p.errors, []);
  });
});

Deno.test("flame graph page: inverted layout, flames, hide import system", async () => {
  const imp: StackFrame = ["_find_and_load", "<frozen importlib._bootstrap>", 1165];
  const s: Step[] = [...steps(), {
    alloc: 0x4000,
    size: 300,
    stack: [BOOT, APP, imp, ["<module>", "/work/app/m.py", 1]],
  }];
  const html = await report(stackCapture(s), { inverted: true });
  await withPage(html, async (p) => {
    assertEquals(p.errors, []);
    const drawn = await nodes(p);
    assertEquals(drawn["<root>"], 9000);
    // Allocating functions are the root's children.
    assertEquals(drawn["fill at /work/app/big.py:9"], 5000);
    assertEquals(drawn["<module> at /work/app/m.py:1"], 300);
    const layout = () => p.page.locator(testId("flame-chart")).getAttribute("data-layout");
    // Icicles: the root on top; flames: the root at the bottom.
    const rootTop = () =>
      p.evaluate(() => {
        const root = [...document.querySelectorAll<HTMLElement>('[data-testid="flame-node"]')]
          .find((e) => e.textContent === "<root>")!;
        return root.offsetTop === 0;
      });
    assertEquals([await layout(), await rootTop()], ["icicle", true]);
    await p.click('button:has-text("Flames")');
    await p.until(layout, "flame", "the layout switch");
    await p.until(rootTop, false, "the root's place in flames");
    await p.click(testId("hide-import-system"));
    // The inverted graph without imports cuts stacks at the import: m.py's frame goes, its bytes stay.
    const cut = some(p, "<root>", "<module> at /work/app/m.py:1", "fill at /work/app/big.py:9");
    await p.until(cut, [9000, undefined, 5000], "hiding imports");
    await p.screenshot("flamegraph-inverted-flames");
  });
});

Deno.test("temporal flame graph: the plot's range changes the totals", async () => {
  const leaks = await report(temporalCapture(), { temporal: true, leaks: true });
  await withPage(leaks, async (p) => {
    assertEquals(p.errors, []);
    // Whole run: what was made and never freed (a and c).
    assertEquals(await total(p), "4.0 kB in 2 allocations");
    await p.click(testId("peak-heap-button"));
    // Up to the peak: a and b were made and not yet freed.
    await p.until(() => total(p), "6.0 kB in 2 allocations", "the peak heap button");
    await p.until(some(p, "b at /work/t.py:20"), [5000]);
    await p.screenshot("flamegraph-temporal-leaks");
  });
  const hwm = await report(temporalCapture(), { temporal: true, force: true });
  await withPage(hwm, async (p) => {
    assertEquals(p.errors, []);
    // The highest heap of the whole run: a and b.
    assertEquals(await total(p), "6.0 kB in 2 allocations");
    // Drag over the end of the run (after the peak): a and c.
    const box = (await p.page.locator(`${testId("memory-plot")} svg`).first().boundingBox())!;
    const y = box.y + box.height / 2;
    await p.page.mouse.move(box.x + box.width * 0.8, y);
    await p.page.mouse.down();
    await p.page.mouse.move(box.x + box.width * 0.99, y, { steps: 4 });
    await p.page.mouse.up();
    await p.until(() => total(p), "4.0 kB in 2 allocations", "the dragged range");
    await p.screenshot("flamegraph-temporal-hwm");
  });
});

Deno.test("flame graph tooltip: file:line, source line, bytes, count, thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memray-fg-src-" });
  const source = `${dir}/work.py`;
  await Deno.writeTextFile(source, "import os\n\ndef work():\n    data = bytearray(5000)\n");
  const s: Step[] = [
    { alloc: 0x1000, size: 5_000, stack: [BOOT, APP, ["work", source, 4]] },
    { alloc: 0x2000, size: 3_000, stack: [BOOT, APP, ["work", source, 4]] },
    { alloc: 0x3000, size: 2_000, thread: 2, stack: [["run", "/no/such/dir/worker.py", 8]] },
  ];
  await withPage(await report(stackCapture(s), { splitThreads: true }), async (p) => {
    assertEquals(p.errors, []);
    /** The lines of the tooltip of the node `label`, once it shows `file`. */
    const tip = async (label: string, file: string) => {
      await p.page.locator(testId("flame-node"), { hasText: label }).first().hover();
      const tooltip = p.page.locator(testId("flame-tooltip"), { hasText: file });
      await tooltip.waitFor();
      return (await tooltip.innerText()).split("\n").map((l) => l.trim()).filter((l) => l);
    };
    // A readable Python file: the node is named by its source line, which the tooltip shows too.
    assertEquals(await tip("data = bytearray(5000)", source), [
      `File ${source}, line 4 in work`,
      "data = bytearray(5000)",
      "8.0 kB total (80.00 %)",
      "2 allocations",
      "Thread ID: 0x1",
    ]);
    await p.screenshot("flamegraph-tooltip");
    // An unreadable file: no source line, the frame's name instead.
    assertEquals(await tip("run at /no/such/dir/worker.py:8", "worker.py"), [
      "File /no/such/dir/worker.py, line 8 in run",
      "2.0 kB total (20.00 %)",
      "1 allocation",
      "Thread ID: 0x2",
    ]);
  });
});

Deno.test("flame graph page: the theme toggle switches colours and is remembered", async () => {
  await withPage(await report(stackCapture(steps())), async (p) => {
    const theme = () => p.evaluate<string>("document.documentElement.dataset.theme");
    // A Python frame's colour, which the theme sets.
    const colour = () =>
      p.evaluate(() => getComputedStyle(document.querySelector(".fg-python")!).backgroundColor);
    assertEquals(await theme(), "light");
    const light = await colour();
    await p.click(testId("theme-toggle"));
    await p.until(theme, "dark", "the theme toggle");
    assert_((await colour()) !== light, "the frame colours change");
    assertEquals(await p.evaluate('localStorage.getItem("memray-theme")'), "dark");
    await p.screenshot("flamegraph-dark");
    await p.page.reload();
    await p.page.locator(testId("flame-node")).first().waitFor();
    assertEquals(await theme(), "dark");
    await p.click(testId("theme-toggle"));
    await p.until(theme, "light", "toggling back");
    assertEquals(await colour(), light);
    assertEquals(p.errors, []);
  });
});

Deno.test("flame graph page: hiding import system frames removes them and their bytes", async () => {
  const imp: StackFrame = ["_find_and_load", "<frozen importlib._bootstrap>", 1165];
  const s: Step[] = [...steps(), {
    alloc: 0x4000,
    size: 300,
    stack: [BOOT, APP, imp, ["<module>", "/work/app/m.py", 1]],
  }];
  await withPage(await report(stackCapture(s)), async (p) => {
    const IMP = "_find_and_load at <frozen importlib._bootstrap>:1165";
    const M = "<module> at /work/app/m.py:1";
    const APP_NODE = "<module> at /work/app/app.py:5";
    // Import machinery is irrelevant: hidden by default, its bytes counted in its caller.
    assertEquals(await some(p, "<root>", APP_NODE, IMP, M)(), [9000, 8300, undefined, undefined]);
    await p.click(testId("hide-irrelevant"));
    await p.until(some(p, "<root>", APP_NODE, IMP, M), [9000, 8300, 300, 300], "showing all");
    await p.click(testId("hide-import-system"));
    await p.until(
      some(p, "<root>", APP_NODE, IMP, M),
      [8700, 8000, undefined, undefined],
      "hiding imports",
    );
    assertEquals(await total(p), "8.7 kB in 3 allocations");
    await p.click(testId("hide-import-system"));
    await p.until(some(p, "<root>", IMP), [9000, 300], "showing imports again");
    assertEquals(p.errors, []);
  });
});

Deno.test("memray flamegraph: default name, overwrite rule, refused combinations", async () => {
  const { main } = await import("../../lib/cli/main.ts");
  const dir = await Deno.makeTempDir({ prefix: "memray-fg-cli-" });
  const capture = `${dir}/memray-app.py.42.bin`;
  await Deno.writeFile(capture, stackCapture(steps()));
  assertEquals(await main(["flamegraph", capture]), 0);
  const page = await Deno.readTextFile(`${dir}/memray-flamegraph-app.py.42.html`);
  assert_(page.includes('"kind":"flamegraph"'));
  // An existing output needs -f; temporal temporary allocations are a usage error (argparse's 2).
  assertEquals(await main(["flamegraph", capture]), 1);
  assertEquals(
    await main(["flamegraph", "-f", "--leaks", "--inverted", "--split-threads", capture]),
    0,
  );
  assertEquals(await main(["flamegraph", "--temporal", "--temporary-allocations", capture]), 2);
  assertEquals(await main(["flamegraph", "--leaks", "--temporary-allocations", capture]), 2);
  assertEquals(await main(["flamegraph", `${dir}/missing.bin`]), 1);
  assertEquals(await main(["flamegraph", "-f", "--max-memory-records", "0", capture]), 2);
});
