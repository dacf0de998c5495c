/**
 * A 4-deep Python call chain on every supported interpreter (reference §9 item 12): the
 * allocation's stack is exactly the chain, leaf first, with the callers' lines at their call
 * sites (not at their `def` lines), and the launcher's frames hidden.
 */
import assert from "node:assert/strict";
import {
  allocations,
  expectExit,
  factsOf,
  frameLines,
  KIND,
  lineOf,
  PRELUDE,
  PYTHONS,
  read,
  runScript,
  withTempDir,
} from "./helpers.ts";

const SIZE = 123 * 8 * 3 + 1;

const SOURCE = `${PRELUDE}
def alloc_func3():
    x = 1
    p = lib.h_valloc(${SIZE})  # CALL:func3
    lib.h_free(p)
    return p

def alloc_func2():
    y = 2
    return alloc_func3(  # CALL:func2
    )

def alloc_func1():
    return [alloc_func2()  # CALL:func1
            for _ in range(1)][0]

def main():
    z = 3
    if z:
        emit(address=alloc_func1(), hexversion=sys.hexversion)  # CALL:main

main()  # CALL:module
`;

/**
 * The expected stack, leaf first. A call spanning two lines is at its first line (as tracebacks
 * show it on every supported version); 3.12+ inlines the list comprehension (PEP 709).
 */
function expected(hexversion: number): string[] {
  const line = (marker: string) => lineOf(SOURCE, `# CALL:${marker}`);
  const comprehension = hexversion >= 0x030c0000 ? [] : [`<listcomp>:${line("func1")}`];
  return [
    `alloc_func3:${line("func3")}`,
    `alloc_func2:${line("func2")}`,
    ...comprehension,
    `alloc_func1:${line("func1")}`,
    `main:${line("main")}`,
    `<module>:${line("module")}`,
  ];
}

async function profile(python: string) {
  return await withTempDir(async (dir) => {
    const result = await runScript(dir, "deep.py", SOURCE, { flags: ["--no-compress"], python });
    expectExit(result, 0, `memray run --python ${python}`);
    const facts = factsOf(result)[0] as { address: number; hexversion: number };
    const capture = await read(`${dir}/out.bin`);
    return { dir, facts, capture, found: allocations(capture, KIND.valloc, SIZE) };
  });
}

// All interpreters run at once; each test awaits its own (sanitizers off: shared promises).
const runs = new Map<string, ReturnType<typeof profile>>();
function run(python: string): ReturnType<typeof profile> {
  if (runs.size === 0) { for (const p of PYTHONS) runs.set(p, profile(p)); }
  return runs.get(python)!;
}

for (const python of PYTHONS) {
  Deno.test({
    name: `4-deep stack with call-site lines: ${python}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const { dir, facts, capture, found } = await run(python);
      assert.equal(capture.header.python_hexversion, facts.hexversion, "header hexversion");
      assert.equal(found.length, 1, `${found.length} vallocs of ${SIZE} bytes`);
      assert.equal(found[0].addr, facts.address);
      assert.deepEqual(frameLines(found[0].frames), expected(facts.hexversion));
      for (const frame of found[0].frames) assert.equal(frame.filename, `${dir}/deep.py`);
    },
  });
}
