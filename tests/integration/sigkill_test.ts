/**
 * A program killed with SIGKILL while tracking (reference §9 item 5): the capture stays readable
 * and holds every allocation made before the kill; the CLI leaves with 128 + 9 and says why in
 * one line.
 */
import assert from "node:assert/strict";
import {
  allocations,
  expectExit,
  factsOf,
  KIND,
  PRELUDE,
  read,
  runScript,
  withTempDir,
} from "./helpers.ts";

const SIZE = 123 * 8 * 11 + 3;
const COUNT = 250;

const SOURCE = `${PRELUDE}
N = int(sys.argv[1])
kept = [lib.h_valloc(${SIZE}) for _ in range(N)]
for p in kept[: N // 2]:
    lib.h_free(p)
emit(addresses=kept, pid=os.getpid())
os.kill(os.getpid(), 9)
emit(survived=True)
`;

for (const compress of [true, false]) {
  const flags = compress ? [] : ["--no-compress"];
  Deno.test(`SIGKILL mid-run (${compress ? "compressed" : "--no-compress"}): readable capture with every allocation before the kill`, async () => {
    await withTempDir(async (dir) => {
      const result = await runScript(dir, "killed.py", SOURCE, { flags, args: [`${COUNT}`] });
      expectExit(result, 128 + 9, "memray run of a program that SIGKILLs itself");
      const facts = factsOf(result);
      assert.equal(facts.length, 1, "the program ran up to the kill and no further");
      const { addresses, pid } = facts[0] as { addresses: number[]; pid: number };

      const capture = await read(`${dir}/out.bin`);
      assert.equal(capture.compressed, compress, "compressed as the CLI leaves it");
      assert.equal(capture.header.pid, pid);
      assert.equal(capture.header.finished, false, "a killed capture is not marked finished");
      const found = allocations(capture, KIND.valloc, SIZE);
      assert.deepEqual(found.map((a) => a.addr), addresses, "every allocation, in order");
      // The first free of each address after its valloc: the program's later allocations may
      // reuse a freed block and free it again.
      const freed = new Set(addresses.slice(0, COUNT / 2));
      const e = capture.events;
      let frees = 0;
      for (let i = 0; i < e.count; i++) {
        if (e.kind[i] === KIND.free && e.seq[i] > found[0].seq && freed.delete(e.addr[i])) frees++;
      }
      assert.equal(frees, COUNT / 2, "the frees made before the kill");

      const lines = result.err.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.err}`);
      assert.match(lines[0], /^memray: .*(SIGKILL|signal 9|killed)/i);
    });
  });
}
