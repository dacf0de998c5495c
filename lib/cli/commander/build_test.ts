import assert from "node:assert/strict";
import { buildCommander } from "./build.ts";

const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);

Deno.test("the checked-in commander bundle is what build.ts makes (run it after changes)", async () => {
  const built = await buildCommander();
  for (const [name, content] of Object.entries(built)) {
    assert.equal(await Deno.readTextFile(`${HERE}${name}`), content, `${name} is out of date`);
  }
});

Deno.test("the commander bundle imports no Node built-in", async () => {
  const bundle = await Deno.readTextFile(`${HERE}commander.js`);
  assert.doesNotMatch(bundle, /from\s+["']node:/);
  assert.doesNotMatch(bundle, /import\(["']node:/);
  assert.doesNotMatch(bundle, /globalThis\.process|require\(/);
});
