/**
 * Drives HTML reports in real headless Chromium (Debian's /usr/bin/chromium, installed by
 * scripts/install_test_packages.sh) through playwright-core. Each {@link withPage} launches a
 * fresh browser, so tests share no state and leave no process behind.
 */
import { chromium, type Page } from "playwright-core";

/** Debian's browser; playwright cannot download its own here. */
export const CHROMIUM_PATH = Deno.env.get("MEMRAY_TEST_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags of ../shared/TOOLCHAIN.md. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** Where screenshots go (git-ignored). */
export const SCREENSHOT_DIR = `${ROOT}test-output/html`;

/** What a test gets: the page, helpers, and what went wrong while it ran. */
export interface BrowserPage {
  /** The playwright page, for anything the helpers do not cover. */
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** URLs the page requested other than the report itself (a self-contained page asks none). */
  requests: string[];
  /**
   * Runs a function, or a JavaScript expression (DOM code reads better as a string here: Deno's
   * type checker has no DOM types), in the page and returns its JSON-serialisable result.
   */
  evaluate<T>(code: string | (() => T | Promise<T>)): Promise<T>;
  /** Clicks the first element matching `selector`. */
  click(selector: string): Promise<void>;
  /** Replaces the value of the input matching `selector` by typing `text`. */
  type(selector: string, text: string): Promise<void>;
  /** The text content of every element matching `selector`. */
  texts(selector: string): Promise<string[]>;
  /** Saves a full-page PNG to `test-output/html/<name>.png`; returns its path. */
  screenshot(name: string): Promise<string>;
  /**
   * Reads `read()` again (every 25 ms, up to {@link SETTLE_MS}) until it equals `expected`
   * (structurally), and returns it; else throws with the last value read. Pages re-render after
   * an event (Preact batches renders, effects run after paint), so a read right after an action
   * can see the old page on a loaded machine: assertions on what an action changes go here.
   */
  until<T>(read: () => Promise<T>, expected: T, what?: string): Promise<T>;
}

/** How long {@link BrowserPage.until} and page waits give a page to settle. */
export const SETTLE_MS = 20_000;

/** `data-testid` selector. */
export function testId(id: string): string {
  return `[data-testid="${id}"]`;
}

/** Options of {@link withPage}. */
export interface WithPageOptions {
  /** Viewport (default 1280x800). */
  width?: number;
  height?: number;
  /** Prefer a dark OS theme (default light). */
  colorScheme?: "light" | "dark";
}

/** Structural equality of JSON-like values (what {@link BrowserPage.until} compares). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Polls `read` until it returns `expected`; see {@link BrowserPage.until}. */
export async function until<T>(
  read: () => Promise<T>,
  expected: T,
  what = "the page",
  timeout_ms = SETTLE_MS,
): Promise<T> {
  const deadline = performance.now() + timeout_ms;
  for (let attempt = 0;; attempt++) {
    const value = await read();
    if (sameJson(value, expected)) return value;
    if (performance.now() > deadline) {
      throw new Error(
        `${what} did not settle in ${timeout_ms} ms (${attempt + 1} reads): expected ` +
          `${JSON.stringify(expected)}, last read ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Opens `html_path` (a file) in a fresh headless Chromium, waits for the load event and the
 * app's first render (the `#app` element has content, where the page has one), runs `fn`, and
 * closes the browser whatever happens (a failing close does not hide the test's own error).
 */
export async function withPage<T>(
  html_path: string,
  fn: (page: BrowserPage) => Promise<T>,
  options: WithPageOptions = {},
): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
      colorScheme: options.colorScheme ?? "light",
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    const url = new URL(`file://${await Deno.realPath(html_path)}`).href;
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`exception: ${e.message}`));
    page.on("request", (r) => {
      if (r.url() !== url && !r.url().startsWith("blob:")) requests.push(r.url());
    });
    page.setDefaultTimeout(SETTLE_MS);
    await page.goto(url, { waitUntil: "load" });
    // The app renders from a script; wait for it (a page without #app is not an app page).
    await page.waitForFunction(
      '(document.getElementById("app")?.childElementCount ?? 1) > 0',
    );
    const api: BrowserPage = {
      page,
      errors,
      requests,
      evaluate: <T>(code: string | (() => T | Promise<T>)) =>
        page.evaluate(code as () => T | Promise<T>),
      click: (selector) => page.locator(selector).first().click(),
      type: async (selector, text) => {
        const input = page.locator(selector).first();
        await input.fill("");
        await input.pressSequentially(text);
      },
      texts: (selector) => page.locator(selector).allTextContents(),
      screenshot: async (name) => {
        await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
        const path = `${SCREENSHOT_DIR}/${name}.png`;
        await page.screenshot({ path, fullPage: true });
        return path;
      },
      until: (read, expected, what) => until(read, expected, what),
    };
    return await fn(api);
  } finally {
    // Closing kills Chromium and its helpers; it must not mask the error that got us here.
    await browser.close().catch((e) => console.error(`Cannot close Chromium: ${e}`));
  }
}
