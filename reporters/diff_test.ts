import { assert_, assertEquals, assertRejects } from "../tests/support/assert.ts";
import { CaptureError, UsageError } from "../lib/capture/errors.ts";
import { diffPair } from "./testing/diff_pair.ts";
import { memray, PYTHON } from "../tests/integration/helpers.ts";
import { DIFF_JSON_SCHEMA, locationText, runDiff } from "./diff.ts";
import { checkSchema } from "./transform/testing/json_schema.ts";

function collect(): { sink: (s: string) => void; text: () => string } {
  const parts: string[] = [];
  return { sink: (s) => parts.push(s), text: () => parts.join("") };
}

async function pairFiles(): Promise<{ dir: string; base: string; now: string }> {
  const dir = await Deno.makeTempDir();
  const pair = diffPair();
  await Deno.writeFile(`${dir}/base.bin`, pair.base);
  await Deno.writeFile(`${dir}/new.bin`, pair.now);
  return { dir, base: `${dir}/base.bin`, now: `${dir}/new.bin` };
}

const strip = (s: string) => s.replace(new RegExp("\x1b\\[[0-9;]*m", "g"), "");

Deno.test("diff table: totals, then changed locations by growth", async (t) => {
  const { dir, base, now } = await pairFiles();
  const out = collect();
  await runDiff({ basePath: base, newPath: now, color: false, stdout: out.sink });
  const text = out.text().replaceAll(dir, "<dir>");
  await t.assertSnapshot(text);
  const rows = text.split("\n").filter((l) => /^\s*[+-]?\d/.test(l));
  assertEquals(rows.map((r) => r.trim().split(/\s+/)[4]), ["grown", "added", "shrunk", "removed"]);
  assert_(text.includes("Change: +300.000kB (+8.33 %), +1 allocations"), text);
  // Colour on a terminal: growth red, shrinkage green, same text underneath.
  const tty = collect();
  await runDiff({ basePath: base, newPath: now, color: true, stdout: tty.sink });
  assertEquals(strip(tty.text()), out.text());
  assert_(tty.text().includes("\x1b[31m  +1.000MB\x1b[0m"), tty.text());
  assert_(tty.text().includes("\x1b[32m  -1.000MB\x1b[0m"), tty.text());
  // --max-rows cuts the table and says so.
  const two = collect();
  await runDiff({ basePath: base, newPath: now, color: false, maxRows: 2, stdout: two.sink });
  assert_(two.text().includes("… 2 more changed locations"), two.text());
  assertEquals(two.text().includes("removed  load"), false);
  // --leaks: the other snapshot.
  const leaks = collect();
  await runDiff({ basePath: base, newPath: now, leaks: true, color: false, stdout: leaks.sink });
  await t.assertSnapshot(leaks.text().replaceAll(dir, "<dir>"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("diff JSON follows its documented schema", async (t) => {
  const { dir, base, now } = await pairFiles();
  const out = collect();
  await runDiff({ basePath: base, newPath: now, json: true, stdout: out.sink });
  const doc = JSON.parse(out.text());
  assertEquals(checkSchema(DIFF_JSON_SCHEMA, doc), []);
  // The checker can fail: a wrong status and a missing field are reported.
  const bad = structuredClone(doc);
  bad.locations[0].status = "bigger";
  delete bad.totals.added;
  assertEquals(checkSchema(DIFF_JSON_SCHEMA, bad).length, 2);
  // Stacks index a frame table, root first.
  const grown = doc.locations[0];
  assertEquals(grown.stack.map((i: number) => doc.frames[i].function), ["<module>", "build"]);
  assertEquals(new Set(doc.frames.map(JSON.stringify)).size, doc.frames.length);
  doc.base.path = doc.base.path.replace(dir, "<dir>");
  doc.new.path = doc.new.path.replace(dir, "<dir>");
  await t.assertSnapshot(doc);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("diff refusals are one line", async () => {
  const { dir, base } = await pairFiles();
  const missing = await assertRejects(
    () => runDiff({ basePath: base, newPath: `${dir}/nope.bin`, stdout: () => {} }),
    CaptureError,
    `Cannot parse capture ${dir}/nope.bin`,
  );
  assertEquals(missing.message.includes("\n"), false);
  await Deno.writeFile(`${dir}/junk.bin`, new TextEncoder().encode("not a capture at all"));
  const junk = await assertRejects(
    () => runDiff({ basePath: `${dir}/junk.bin`, newPath: base, stdout: () => {} }),
    CaptureError,
  );
  assertEquals(junk.message.includes("\n"), false);
  await assertRejects(
    () => runDiff({ basePath: base, newPath: base, maxRows: 0 }),
    UsageError,
    "0 is an invalid positive int value",
  );
  assertEquals(locationText([]), "<unknown>");
  await Deno.remove(dir, { recursive: true });
});

const PROGRAM = `import sys

def build(n):
    return [bytearray(1_000_000) for _ in range(n)]

def cache(n):
    return bytearray(200_000 * n)

def main():
    n = int(sys.argv[1])
    keep = build(n)
    extra = cache(3 - n)
    if n > 1:
        more = bytearray(700_000)
    return keep

main()
`;

Deno.test("diff of two real runs of one program", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/prog.py`, PROGRAM);
  for (const [name, n] of [["base.bin", "1"], ["new.bin", "2"]]) {
    const run = await memray(["run", "--python", PYTHON, "-o", name, "prog.py", n], { cwd: dir });
    assertEquals(run.code, 0, run.err);
  }
  const out = collect();
  await runDiff({
    basePath: `${dir}/base.bin`,
    newPath: `${dir}/new.bin`,
    json: true,
    stdout: out.sink,
  });
  const doc = JSON.parse(out.text());
  assertEquals(checkSchema(DIFF_JSON_SCHEMA, doc), []);
  const leaf = (l: { stack: number[] }) => {
    const f = doc.frames[l.stack[l.stack.length - 1]];
    return f === undefined ? "<no Python stack>" : `${f.function}:${f.lineno}`;
  };
  const by = new Map<string, Record<string, number | string>>(
    doc.locations.map((l: { stack: number[] }) => [leaf(l), l]),
  );
  const build = by.get("build:4")!;
  assertEquals(build.status, "grown");
  assert_(Number(build.delta_bytes) >= 1_000_000 && Number(build.delta_bytes) < 1_001_000);
  assertEquals(build.delta_count, 1);
  assertEquals(by.get("main:14")!.status, "added");
  assertEquals(by.get("cache:7")!.status, "shrunk");
  assert_(Math.abs(Number(by.get("cache:7")!.delta_bytes) + 200_000) < 100);
  await Deno.remove(dir, { recursive: true });
});
