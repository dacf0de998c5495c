/**
 * Measures the symbolizer on a real `--native` capture: runs symbolizer_workload.py under
 * `main.ts run --native` (pyenv 3.11.7, shared libpython with DWARF), then symbolizes every
 * distinct ip of the capture and prints the times.
 *
 *   .tools/bin/deno run -A tests/native_symbols/symbolizer_bench.ts [python]
 */
import { readCapture } from "../../lib/capture/reader.ts";
import { ModuleIndex } from "../../lib/capture/module_index.ts";
import type { ModuleMap } from "../../lib/capture/records.ts";
import { Symbolizer } from "../../lib/native/symbolizer.ts";
import { DENO, nativeRunArgs } from "../../bench/native/native_capture.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const python = Deno.args[0] ?? `${Deno.env.get("HOME")}/.pyenv/versions/3.11.7/bin/python3`;
const dir = await Deno.makeTempDir({ prefix: "memrayd-symbench-" });
const capturePath = `${dir}/native.bin`;
const run = await new Deno.Command(DENO, {
  args: nativeRunArgs(python, `${ROOT}/tests/native_symbols/symbolizer_workload.py`, capturePath),
}).output();
if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));

const capture = await readCapture(capturePath);
const index = new ModuleIndex(capture.module_maps);
const byModule = new Map<string, { module: ModuleMap; offsets: number[] }>();
let unmapped = 0;
for (const ip of capture.native.frames.ip) {
  const hit = index.find(ip);
  if (hit === undefined) {
    unmapped++;
    continue;
  }
  let group = byModule.get(hit.module.path);
  if (group === undefined) {
    byModule.set(hit.module.path, group = { module: hit.module, offsets: [] });
  }
  group.offsets.push(hit.offset);
}
const started = performance.now();
const symbolizer = await Symbolizer.open();
let frames = 0;
let named = 0;
let withLine = 0;
for (const { module, offsets } of byModule.values()) {
  for (const list of symbolizer.symbolizeMany(module, offsets)) {
    frames += list.length;
    if (list[list.length - 1].function !== "<unknown>") named++;
    if (list[0].line > 0) withLine++;
  }
}
const first = performance.now() - started;
const again = performance.now();
for (const { module, offsets } of byModule.values()) symbolizer.symbolizeMany(module, offsets);
const cached = performance.now() - again;
// A larger, colder load: 100k distinct addresses spread over libpython's code (DWARF 5, ~9 MB of
// .debug_info), in a fresh symbolizer, so every unit on the way is parsed.
const libpython = [...byModule.values()].find((group) => group.module.path.includes("libpython"));
let bulk = "";
if (libpython !== undefined) {
  const fresh = await Symbolizer.open();
  const offsets = Array.from({ length: 100_000 }, (_, i) => 0xfa7d0 + i * 23);
  const t0 = performance.now();
  const results = fresh.symbolizeMany(libpython.module, offsets);
  const t1 = performance.now();
  fresh.symbolizeMany(libpython.module, offsets);
  const t2 = performance.now();
  const lined = results.filter((list) => list[0].line > 0).length;
  const inlined = results.filter((list) => list.length > 1).length;
  bulk = `; libpython 100k addresses: ${(t1 - t0).toFixed(0)} ms cold (${lined} with a line, ` +
    `${inlined} with inlined frames), ${(t2 - t1).toFixed(0)} ms cached`;
  fresh.close();
}
symbolizer.close();
const ips = capture.native.frames.ip.length;
console.log(
  `${ips} distinct ips (${unmapped} outside modules) in ${byModule.size} modules -> ${frames} frames; ` +
    `${named} named, ${withLine} with a line; first pass ${first.toFixed(0)} ms ` +
    `(opening modules included), cached pass ${cached.toFixed(0)} ms${bulk}`,
);
await Deno.remove(dir, { recursive: true });
