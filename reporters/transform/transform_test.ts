import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { buildFakeCapture } from "../../tests/support/fake_capture.ts";
import { UsageError } from "../../lib/capture/errors.ts";
import { aggregateCapture } from "../../lib/capture/aggregate.ts";
import { gunzip } from "../../lib/pprof/profile.ts";
import { decodeProfile } from "../../lib/pprof/profile_decode.ts";
import { gprof2dotHint, richWrap } from "./gprof2dot_hint.ts";
import { defaultOutputPath, pathString, pathSuffix } from "./output_path.ts";
import { pythonJsonDumps } from "./python_json.ts";
import { runTransform, TransformOptions } from "./run_transform.ts";

async function withFake(body: (dir: string, capture: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memray-transform-" });
  try {
    const capture = `${dir}/memray-app.py.4242.bin`;
    await Deno.writeFile(capture, buildFakeCapture().finish());
    await body(dir, capture);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function quiet(options: TransformOptions): TransformOptions {
  return {
    stdout: () => {},
    stdoutIsTerminal: false,
    onPath: () => Promise.resolve(true),
    ...options,
  };
}

const MODES: [string, Partial<TransformOptions>][] = [
  ["peak", {}],
  ["leaks", { leaks: true }],
  ["temporary", { temporaryAllocationThreshold: 1 }],
];

for (const format of ["csv", "gprof2dot", "speedscope"]) {
  Deno.test(`${format} of the fixed capture at the peak, leaked and temporary`, async (t) => {
    await withFake(async (dir, capture) => {
      const outputs: string[] = [];
      for (const [mode, extra] of MODES) {
        const output = await runTransform(
          quiet({ capturePath: capture, format, outputPath: `${dir}/${mode}`, ...extra }),
        );
        const text = await Deno.readTextFile(output);
        outputs.push(text);
        await t.step(mode, async (s) => await s.assertSnapshot(text));
      }
      // The three selections differ: the snapshots cannot all be the same empty document.
      assertEquals(new Set(outputs).size, 3);
    });
  });
}

Deno.test("pprof of the fixed capture: heap sample types, in-use selection, every allocation", async (t) => {
  await withFake(async (dir, capture) => {
    for (const [mode, extra] of MODES) {
      const output = await runTransform(
        quiet({
          capturePath: capture,
          format: "pprof",
          outputPath: `${dir}/${mode}.pb.gz`,
          ...extra,
        }),
      );
      const profile = decodeProfile(gunzip(await Deno.readFile(output)));
      assertEquals(profile.sample_types.map((s) => `${s.type}/${s.unit}`), [
        "alloc_objects/count",
        "alloc_space/bytes",
        "inuse_objects/count",
        "inuse_space/bytes",
      ]);
      assertEquals(profile.default_sample_type, "inuse_space");
      const total = (i: number) => profile.samples.reduce((n, s) => n + s.values[i], 0);
      // Every allocation of the fake capture: 8 of them, whatever the selection.
      assertEquals(total(0), 8);
      assertEquals(total(1), 100 + 4000 + 32 + 1_000_000 + 8192 + 2_000_000 + 64 + 500);
      await t.step(mode, async (s) => await s.assertSnapshot(profile));
    }
  });
});

Deno.test("the CSV matches the peak by hand: what is live when the realloc of 2 MB lands", async () => {
  await withFake(async (dir, capture) => {
    const output = await runTransform(
      quiet({ capturePath: capture, format: "csv", outputPath: `${dir}/x.csv` }),
    );
    const rows = (await Deno.readTextFile(output)).split("\r\n").filter((r) => r !== "");
    assertEquals(rows[0], "allocator,num_allocations,size,tid,thread_name,stack_trace");
    // Live then at build line 12: calloc 4000, pymalloc 32, mmap shrunk to 4096 (one location,
    // named by its first allocator); at line 13 the realloc. The worker's block was freed.
    assertEquals(rows.slice(1).map((r) => r.split(",").slice(0, 3).join(",")), [
      "CALLOC,3,8128",
      "REALLOC,1,2000000",
    ]);
    // The launcher's frames (bootstrap, runpy) are hidden.
    assertEquals(rows.some((r) => r.includes("runpy") || r.includes("bootstrap.py")), false);
  });
});

Deno.test("default output names and overwrite rules are memray's", async () => {
  assertEquals(
    defaultOutputPath("/d/memray-app.py.4242.bin", "csv", ".csv"),
    "/d/memray-csv-app.py.4242.csv",
  );
  assertEquals(
    defaultOutputPath("out.bin", "speedscope", ".speedscope.json"),
    "memray-speedscope-out.speedscope.json",
  );
  assertEquals(defaultOutputPath("./x/capture", "pprof", ".pb.gz"), "x/memray-pprof-capture.pb.gz");
  assertEquals(defaultOutputPath("d/.hidden", "csv", ".csv"), "d/memray-csv-.hidden.csv");
  assertEquals([pathSuffix("a.tar.gz"), pathSuffix(".bashrc"), pathSuffix("a."), pathSuffix("a")], [
    ".gz",
    "",
    "",
    "",
  ]);
  assertEquals(
    [pathString("./a//b/./c/"), pathString("//x"), pathString("///x"), pathString(".")],
    ["a/b/c", "//x", "/x", "."],
  );
  await withFake(async (dir, capture) => {
    const printed: string[] = [];
    const options = quiet({ capturePath: capture, format: "CSV", stdout: (s) => printed.push(s) });
    const output = await runTransform(options);
    assertEquals(output, `${dir}/memray-csv-app.py.4242.csv`);
    assertEquals(printed.join(""), `\n\nWrote ${output}\n`);
    await assertRejects(
      () => runTransform(options),
      UsageError,
      `File already exists, will not overwrite without --force: ${output}`,
    );
    await Deno.writeTextFile(output, "old");
    await runTransform({ ...options, force: true });
    assertEquals((await Deno.readTextFile(output)).startsWith("allocator,"), true);
    // On a terminal no progress-bar blank lines come first.
    const tty: string[] = [];
    await runTransform({
      ...options,
      force: true,
      stdoutIsTerminal: true,
      stdout: (s) => tty.push(s),
    });
    assertEquals(tty.join(""), `Wrote ${output}\n`);
  });
});

Deno.test("refusals carry memray's messages", async () => {
  await withFake(async (dir, capture) => {
    const base = quiet({ capturePath: capture, format: "csv", outputPath: `${dir}/o` });
    await assertRejects(
      () => runTransform({ ...base, format: "Flame" }),
      UsageError,
      "Format not supported: Flame",
    );
    await assertRejects(
      () => runTransform({ ...base, capturePath: `${dir}/missing.bin` }),
      UsageError,
      `No such file: ${dir}/missing.bin`,
    );
    await assertRejects(
      () => runTransform({ ...base, leaks: true, temporaryAllocationThreshold: 0 }),
      UsageError,
      "not allowed with argument --leaks",
    );
    await assertRejects(
      () => runTransform({ ...base, temporaryAllocationThreshold: -2 }),
      UsageError,
      "Invalid temporary allocation threshold: -2",
    );
    await runTransform(base);
    const full = await Deno.readTextFile(`${dir}/o`);
    await aggregateCapture(capture);
    await assertRejects(
      () => runTransform({ ...base, force: true, temporaryAllocationThreshold: 1 }),
      UsageError,
      "Can't find temporary allocations using a pre-aggregated capture file.",
    );
    // The peak of an aggregated capture is the peak of the full one.
    await runTransform({ ...base, force: true });
    assertEquals(await Deno.readTextFile(`${dir}/o`), full);
  });
});

Deno.test("gprof2dot prints memray's hint, with warnings for missing tools", async (t) => {
  await withFake(async (dir, capture) => {
    const printed: string[] = [];
    await runTransform({
      capturePath: capture,
      format: "gprof2dot",
      stdoutIsTerminal: false,
      stdout: (s) => printed.push(s),
      onPath: (name) => Promise.resolve(name === "dot"),
    });
    const text = printed.join("").replaceAll(dir, "<dir>");
    await t.assertSnapshot(text);
    assertEquals(text.includes("gprof2dot doesn't seem to be installed"), true);
    assertEquals(text.includes("Graphviz"), false);
  });
  const both = gprof2dotHint({
    output: "o.json",
    hasGprof2dot: true,
    hasDot: true,
    color: false,
    width: 80,
  });
  assertEquals(
    both,
    "\nTo generate a graph from the transform file, run for example:\n" +
      "gprof2dot -f json o.json | dot -Tpng -o output.png\n",
  );
  const red = gprof2dotHint({
    output: "o.json",
    hasGprof2dot: true,
    hasDot: false,
    color: true,
    width: 200,
  });
  assertEquals(
    red.split("\n")[0],
    "❗ \x1b[31mGraphviz doesn't seem to be installed. Please install it to be able to process the transform.\x1b[0m",
  );
  // rich keeps the space before a break at the end of the line; emoji take two cells.
  assertEquals(richWrap("❗ aaaa bbbb cccc", 11), "❗ aaaa \nbbbb cccc");
});

Deno.test("JSON is Python's json.dumps: spaced separators, ASCII only", () => {
  assertEquals(
    pythonJsonDumps({ a: [1, "x,y:z"], 'b"': { c: "é😀" } }),
    '{"a": [1, "x,y:z"], "b\\"": {"c": "\\u00e9\\ud83d\\ude00"}}',
  );
});
