/**
 * Every hooked allocator, called once from a known Python line with a distinctive size (reference
 * §9 item 1): the capture holds exactly one record of that kind and size, at that line and at the
 * address the call returned, and the matching free/munmap of that address.
 */
import assert from "node:assert/strict";
import {
  allocations,
  blockFrees,
  expectExit,
  factsOf,
  frameLines,
  KIND,
  lineOf,
  PRELUDE,
  read,
  runScript,
  withTempDir,
} from "./helpers.ts";

const BASE = 123 * 8;

/** One call per allocator: the Python expression, its record kind and size, how it is freed. */
const CALLS = [
  { name: "malloc", call: `lib.h_malloc(${BASE + 1})`, kind: KIND.malloc, size: BASE + 1 },
  { name: "calloc", call: `lib.h_calloc(3, ${BASE + 2})`, kind: KIND.calloc, size: 3 * (BASE + 2) },
  {
    name: "posix_memalign",
    call: `lib.h_posix_memalign(64, ${BASE + 4})`,
    kind: KIND.posix_memalign,
    size: BASE + 4,
  },
  {
    name: "aligned_alloc",
    call: `lib.h_aligned_alloc(16, ${BASE + 5})`,
    kind: KIND.aligned_alloc,
    size: BASE + 5,
  },
  {
    name: "memalign",
    call: `lib.h_memalign(32, ${BASE + 6})`,
    kind: KIND.memalign,
    size: BASE + 6,
  },
  { name: "valloc", call: `lib.h_valloc(${BASE + 7})`, kind: KIND.valloc, size: BASE + 7 },
  { name: "pvalloc", call: `lib.h_pvalloc(${BASE + 8})`, kind: KIND.pvalloc, size: BASE + 8 },
  { name: "mmap", call: `lib.h_mmap(${BASE * 10 + 9})`, kind: KIND.mmap, size: BASE * 10 + 9 },
  {
    name: "mmap64",
    call: `lib.h_mmap64(${BASE * 10 + 10})`,
    kind: KIND.mmap,
    size: BASE * 10 + 10,
  },
];
const REALLOC_FROM = BASE + 11;
const REALLOC_TO = BASE + 12;

function script(): string {
  const lines = [PRELUDE, "addresses = {}"];
  for (const c of CALLS) {
    lines.push(`p = ${c.call}  # ALLOC:${c.name}`);
    lines.push(`addresses[${JSON.stringify(c.name)}] = p`);
    if (c.kind === KIND.mmap) lines.push(`lib.h_munmap(p, ${c.size})  # FREE:${c.name}`);
    else lines.push(`lib.h_free(p)  # FREE:${c.name}`);
  }
  lines.push(`old = lib.h_malloc(${REALLOC_FROM})  # ALLOC:realloc_from`);
  lines.push(`new = lib.h_realloc(old, ${REALLOC_TO})  # ALLOC:realloc`);
  lines.push("lib.h_free(new)  # FREE:realloc");
  lines.push(`addresses["realloc_from"] = old`, `addresses["realloc"] = new`);
  lines.push("emit(addresses=addresses)");
  return lines.join("\n") + "\n";
}

Deno.test("each hooked allocator is recorded once with its kind, size, line and free", async () => {
  await withTempDir(async (dir) => {
    const source = script();
    const result = await runScript(dir, "hooks.py", source, { flags: ["--no-compress"] });
    expectExit(result, 0, "memray run");
    const addresses = factsOf(result)[0].addresses as Record<string, number>;
    const capture = await read(`${dir}/out.bin`);
    const checks = [
      ...CALLS,
      { name: "realloc", kind: KIND.realloc, size: REALLOC_TO },
      { name: "realloc_from", kind: KIND.malloc, size: REALLOC_FROM },
    ];
    for (const c of checks) {
      const found = allocations(capture, c.kind, c.size);
      assert.equal(found.length, 1, `${c.name}: ${found.length} records of size ${c.size}`);
      const [alloc] = found;
      assert.equal(alloc.addr, addresses[c.name], `${c.name}: address`);
      assert.equal(alloc.thread, capture.main_thread_id, `${c.name}: thread`);
      assert.deepEqual(
        frameLines(alloc.frames),
        [`<module>:${lineOf(source, `# ALLOC:${c.name}`)}`],
        `${c.name}: Python stack`,
      );
      assert.equal(alloc.frames[0].filename, `${dir}/hooks.py`, `${c.name}: file`);
      // Exactly one free of the block, before anything else is allocated at its address. The
      // block realloc() moved from is freed by the realloc itself.
      const kind = c.kind === KIND.mmap ? KIND.munmap : KIND.free;
      const frees = blockFrees(capture, alloc, kind);
      assert.equal(frees.length, 1, `${c.name}: frees of its block`);
      assert.equal(frees[0].thread, alloc.thread, `${c.name}: free's thread`);
      if (c.kind === KIND.mmap) assert.equal(frees[0].size, c.size, `${c.name}: munmap size`);
    }
    // realloc = FREE(old) then the REALLOC record, with nothing recorded in between.
    const [from] = allocations(capture, KIND.malloc, REALLOC_FROM);
    const [to] = allocations(capture, KIND.realloc, REALLOC_TO);
    const [old_free] = blockFrees(capture, from);
    assert.equal(old_free.index + 1, to.index, "realloc: FREE(old) right before REALLOC");
  });
});
