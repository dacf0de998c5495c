/**
 * Entry point of the reports' browser app: reads the page data embedded by `page.ts`
 * (`<script type="application/json" id="memray-data">`) and renders the app for its `kind`.
 */
import { render } from "preact";
import type { PageCommon } from "../data/common.ts";
import { initTheme } from "./common/theme.tsx";
import { TableApp } from "./table/app.tsx";
import { FlamegraphApp } from "./flamegraph/app.tsx";
import { DiffApp } from "./flamegraph/diff_app.tsx";

type DataOf<F> = F extends (props: { data: infer D }) => unknown ? D : never;

function fail(root: HTMLElement, message: string): void {
  root.textContent = "";
  const p = document.createElement("p");
  p.className = "load-error";
  p.setAttribute("role", "alert");
  p.textContent = message;
  root.append(p);
  console.error(message);
}

function main(): void {
  initTheme();
  const root = document.getElementById("app")!;
  let data: PageCommon;
  try {
    data = JSON.parse(document.getElementById("memray-data")?.textContent ?? "");
  } catch {
    fail(root, "Cannot show this report: its embedded data is missing or damaged.");
    return;
  }
  document.title = data.title ?? document.title;
  switch (data.kind) {
    case "table":
      render(<TableApp data={data as DataOf<typeof TableApp>} />, root);
      break;
    case "flamegraph":
      render(<FlamegraphApp data={data as unknown as DataOf<typeof FlamegraphApp>} />, root);
      break;
    case "diff":
      render(<DiffApp data={data as unknown as DataOf<typeof DiffApp>} />, root);
      break;
    default:
      fail(root, `Cannot show this report: unknown kind ${JSON.stringify(data.kind)}.`);
  }
}

main();
