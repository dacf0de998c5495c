import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ModuleIndex } from "./module_index.ts";
import type { ModuleMap } from "./records.ts";

const module = (path: string, load_base: number, segments: [number, number][]): ModuleMap => ({
  path,
  load_base,
  build_id: new Uint8Array(),
  segments: segments.map(([vaddr, memsz]) => ({ vaddr, memsz })),
});

Deno.test("ModuleIndex finds the module and the file offset of an address", () => {
  const libc = module("/lib/libc.so.6", 0x7f0000000000, [[0, 0x1000], [0x2000, 0x500]]);
  const exe = module("/usr/bin/python3", 0x550000000000, [[0x1000, 0x800]]);
  const index = new ModuleIndex([{ seq: 1, generation: 0, modules: [libc, exe] }]);
  assertEquals(index.find(0x7f0000000010)?.module.path, "/lib/libc.so.6");
  assertEquals(index.find(0x7f0000002004)?.offset, 0x2004);
  assertEquals(index.find(0x550000001000)?.module.path, "/usr/bin/python3");
  assertEquals(index.find(0x7f0000001800), undefined, "a gap between segments");
  assertEquals(index.find(0x550000001800), undefined, "one past the end");
});

Deno.test("ModuleIndex uses the generation current at the event", () => {
  const old_lib = module("/old.so", 0x1000, [[0, 0x1000]]);
  const new_lib = module("/new.so", 0x1000, [[0, 0x1000]]);
  const index = new ModuleIndex([
    { seq: 50, generation: 1, modules: [new_lib] },
    { seq: 2, generation: 0, modules: [old_lib] },
  ]);
  assertEquals(index.find(0x1800, 10)?.module.path, "/old.so");
  assertEquals(index.find(0x1800, 50)?.module.path, "/new.so");
  assertEquals(index.find(0x1800)?.module.path, "/new.so");
  assertEquals(index.find(0x1800, 1)?.module.path, "/old.so", "before any map: the first one");
});
