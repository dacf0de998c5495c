/**
 * Measures the flame graph page of a big capture (issue 5's budget: <= 5 MB, drawn in < 2 s in
 * headless Chromium): the report's wall time, the page's size, and the time from navigation to
 * the first drawn flame graph node (median of `--repeat` page loads).
 *
 *   .tools/bin/deno run -A bench/html/run.ts [--capture /tmp/big_capture/ours.bin] [--repeat 3]
 *
 * Make the capture first with bench/big_capture/run.ts (or `memray run -o ... make.py 10000000`).
 */
import { chromium } from "playwright-core";
import { CHROMIUM_PATH } from "../../tests/html/browser.ts";

const args = Deno.args;
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const root = decodeURIComponent(new URL("../..", import.meta.url).pathname);
const capture = opt("--capture", "/tmp/big_capture/ours.bin");
const repeat = Number(opt("--repeat", "3"));
const output = opt("--output", capture.replace(/\.bin$/, "") + "-flamegraph.html");
const extra = args.includes("--temporal") ? ["--temporal"] : [];

const t0 = performance.now();
const made = await new Deno.Command(`${root}.tools/bin/deno`, {
  args: ["run", "-A", `${root}main.ts`, "flamegraph", "-f", "-o", output, ...extra, capture],
  stdout: "null",
  stderr: "inherit",
}).output();
if (!made.success) throw new Error(`memray flamegraph ${capture} failed`);
const report_s = (performance.now() - t0) / 1000;
const size_bytes = (await Deno.stat(output)).size;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const draws: number[] = [];
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let drawn_nodes = 0;
try {
  for (let r = 0; r < repeat; r++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`file://${await Deno.realPath(output)}`, { waitUntil: "commit" });
    await page.waitForSelector('[data-testid="flame-node"]', { timeout: 60_000 });
    // Navigation start to the first frame painted after the chart exists.
    const ms = await page.evaluate(() =>
      new Promise<number>((done) => requestAnimationFrame(() => done(performance.now())))
    );
    draws.push(ms);
    drawn_nodes = await page.locator('[data-testid="flame-node"]').count();
    if (errors.length > 0) throw new Error(`page errors: ${errors.join("; ")}`);
    await page.close();
  }
} finally {
  await browser.close();
}
const result = {
  capture,
  capture_bytes: (await Deno.stat(capture)).size,
  report_s: Number(report_s.toFixed(2)),
  page_bytes: size_bytes,
  page_mb: Number((size_bytes / 1e6).toFixed(3)),
  draw_ms_median: Math.round(median(draws)),
  draw_ms: draws.map(Math.round),
  drawn_nodes,
};
console.log(JSON.stringify(result, null, 2));
