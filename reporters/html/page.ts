/**
 * One self-contained HTML report: the bundled app's CSS and JS inline, the page's data as JSON in
 * `<script type="application/json" id="memray-data">`. No network, no CDN: the file works offline.
 */
import { APP_CSS, APP_JS, ASSETS_HASH } from "./generated/assets.ts";

/** Options of {@link renderHtmlPage}. */
export interface HtmlPageOptions {
  /** Document title (escaped here). */
  title: string;
  /** JSON-serialisable page data; `data.kind` picks the app (see `app/main.tsx`). */
  data: unknown;
}

/** Escapes text for an HTML text node or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside a `<script>` element: `<`, `>`, `&` and the line separators
 * U+2028/U+2029 are written as `\u` escapes, so no `</script` or `<!--` can end or bend it.
 */
export function scriptSafeJson(data: unknown): string {
  const text = JSON.stringify(data);
  if (text === undefined) throw new TypeError("Cannot embed the page data: it is not JSON");
  return text.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Inline JS must not close its own element; a `</script` inside a string literal is escaped. */
function scriptSafeCode(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}

/** Inline CSS must not close its own element. */
function styleSafe(css: string): string {
  return css.replace(/<\/(style)/gi, "<\\/$1");
}

/** Renders the whole page. */
export function renderHtmlPage(options: HtmlPageOptions): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="memray-deno assets ${ASSETS_HASH}">`,
    // Nothing may be fetched: inline styles and scripts only, images from data: URLs.
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ' +
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data: blob:\">",
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${styleSafe(APP_CSS)}</style>`,
    "</head>",
    "<body>",
    '<div id="app"></div>',
    `<script type="application/json" id="memray-data">${scriptSafeJson(options.data)}</script>`,
    `<script>${scriptSafeCode(APP_JS)}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
