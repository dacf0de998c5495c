/** `memray`: a memory profiler for Python programs. Run `deno run -A main.ts --help`. */
import { formatErrorLine } from "./lib/cli/errors.ts";
import { main } from "./lib/cli/main.ts";

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  console.error(formatErrorLine(event.reason));
  Deno.exit(1);
});

if (import.meta.main) Deno.exit(await main(Deno.args));
