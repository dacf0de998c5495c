import { assertEquals, assertRejects } from "../tests/support/assert.ts";
import { buildFakeCapture } from "../tests/support/fake_capture.ts";
import { UsageError } from "../lib/capture/errors.ts";
import { packCapture } from "../lib/capture/pack.ts";
import { encodeLz4Frame } from "../lib/lz4/frame.ts";
import { runParse } from "./parse.ts";
import { defaultJsonPath, histogramBins, pythonFloorDiv, runStats } from "./stats.ts";
import { runSummary } from "./summary.ts";

async function fakeFile(dir: string, name = "memray-app.py.4242.bin"): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, buildFakeCapture().finish());
  return path;
}

function collect(): { sink: (s: string) => void; text: () => string } {
  const parts: string[] = [];
  return { sink: (s) => parts.push(s), text: () => parts.join("") };
}

Deno.test("parse dumps every record", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = await fakeFile(dir);
  const out = collect();
  await runParse({ capturePath: path, stdout: out.sink, stdoutIsTerminal: false });
  const text = out.text();
  assertEquals(text.split("\n").filter((l) => l.startsWith("ALLOCATION ")).length, 8);
  await t.assertSnapshot(text);
  // A compressed packed capture dumps the same records.
  await Deno.writeFile(path, encodeLz4Frame(packCapture(await Deno.readFile(path))));
  const z = collect();
  await runParse({ capturePath: path, stdout: z.sink, stdoutIsTerminal: false });
  const records = (s: string) => s.split("\n").filter((l) => !/^(HEADER|CHUNK)/.test(l));
  assertEquals(records(z.text()), records(text));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parse refuses a terminal stdout", async () => {
  await assertRejects(
    () => runParse({ capturePath: "/nonexistent", stdoutIsTerminal: true }),
    UsageError,
    "You must redirect stdout to a file or shell pipeline.",
  );
});

Deno.test("stats terminal output", async (t) => {
  const dir = await Deno.makeTempDir();
  const out = collect();
  const path = await fakeFile(dir);
  await runStats({ capturePath: path, numLargest: 3, stdout: out.sink, stdoutIsTerminal: false });
  await t.assertSnapshot(out.text());
  // On a terminal: no blank line first (memray's progress bar erases itself), bold headings
  // styled as rich's highlighter styles them.
  const tty = collect();
  await runStats({ capturePath: path, numLargest: 3, stdout: tty.sink, stdoutIsTerminal: true });
  const lines = tty.text().split("\n");
  assertEquals(lines[0], "📏 \x1b[1mTotal allocations:\x1b[0m");
  assertEquals(
    lines.find((l) => l.includes("modules") && l.includes("size")),
    "🥇 \x1b[1mTop \x1b[0m\x1b[1;36m3\x1b[0m\x1b[1m allocating modules \x1b[0m\x1b[1m(\x1b[0m" +
      "\x1b[1mby size\x1b[0m\x1b[1m)\x1b[0m\x1b[1m:\x1b[0m",
  );
  const plain = tty.text().replace(new RegExp(`${"\x1b"}\\[[0-9;]*m`, "g"), "");
  assertEquals("\n" + plain, out.text());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pythonFloorDiv is Python's float //, not Math.floor(a / b)", () => {
  // Values from CPython 3.11.
  assertEquals(pythonFloorDiv(1, 0.1), 9);
  assertEquals(Math.floor(1 / 0.1), 10);
  assertEquals(pythonFloorDiv(-1, 0.1), -10);
  assertEquals(pythonFloorDiv(7, 2), 3);
  assertEquals(pythonFloorDiv(-7, 2), -4);
  assertEquals(pythonFloorDiv(7, -2), -4);
  assertEquals(pythonFloorDiv(0.7, 0.1), 6);
  assertEquals(pythonFloorDiv(3, 0.3), 10);
  assertEquals(Object.is(pythonFloorDiv(-0.5, 2), -1), true);
  assertEquals(Object.is(pythonFloorDiv(0, -2), -0), true);
});

Deno.test("histogramBins puts a size on a bin edge where memray does", () => {
  // low = log(1) = 0, high = log(1024), step = log(1024) / 10: log(8) / step is 3 in reals;
  // CPython's `log(8) // step` is 2.0 while Math.floor(log(8) / step) is 3 (values from 3.11).
  const step = Math.log(1024) / 10;
  assertEquals([pythonFloorDiv(Math.log(8), step), Math.floor(Math.log(8) / step)], [2, 3]);
  const bins = histogramBins(new Map([[1, 1], [8, 5], [1024, 1]]), 10);
  assertEquals(bins.map(([, c]) => c), [1, 0, 5, 0, 0, 0, 0, 0, 0, 1]);
});

Deno.test("stats JSON has exactly memray's keys and names its file as memray", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = await fakeFile(dir);
  const written = await runStats({ capturePath: path, json: true, stdout: () => {} });
  assertEquals(written, `${dir}/memray-stats-app.py.4242.bin.json`);
  assertEquals(defaultJsonPath("x/memray-a.bin"), "x/memray-stats-a.bin.json");
  const doc = JSON.parse(await Deno.readTextFile(written!));
  assertEquals(Object.keys(doc), [
    "total_num_allocations",
    "total_bytes_allocated",
    "allocation_size_histogram",
    "allocator_type_distribution",
    "top_allocations_by_size",
    "top_allocations_by_count",
    "top_modules_by_allocation_size",
    "top_modules_by_allocation_count",
    "metadata",
  ]);
  assertEquals(Object.keys(doc.metadata), [
    "start_time",
    "end_time",
    "total_allocations",
    "total_frames",
    "peak_memory",
    "command_line",
    "pid",
    "main_thread_id",
    "python_allocator",
    "has_native_traces",
    "trace_python_allocators",
    "file_format",
  ]);
  let histogram_total = 0;
  for (const bin of doc.allocation_size_histogram) histogram_total += bin.count;
  assertEquals(histogram_total, doc.total_num_allocations);
  await t.assertSnapshot(doc);
  // Refuses to overwrite without --force; -o names the file.
  await assertRejects(
    () => runStats({ capturePath: path, json: true, stdout: () => {} }),
    UsageError,
  );
  await runStats({ capturePath: path, json: true, force: true, stdout: () => {} });
  const other = `${dir}/out.json`;
  assertEquals(
    await runStats({ capturePath: path, json: true, outputPath: other, stdout: () => {} }),
    other,
  );
  await assertRejects(
    () => runStats({ capturePath: path, numLargest: 0 }),
    UsageError,
    "0 is an invalid positive int value",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("summary table at the peak", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = await fakeFile(dir);
  for (const sortColumn of [1, 3, 5]) {
    const out = collect();
    await runSummary({
      capturePath: path,
      sortColumn,
      maxRows: 10,
      color: false,
      stdout: out.sink,
      stdoutIsTerminal: false,
    });
    await t.assertSnapshot(out.text());
  }
  // Colours as memray's rich markup: bold headings, magenta function, cyan file, each figure in
  // the colour of its share (red above 60%); no blank lines first on a terminal.
  const tty = collect();
  await runSummary({
    capturePath: path,
    maxRows: 10,
    color: true,
    stdout: tty.sink,
    stdoutIsTerminal: true,
  });
  const lines = tty.text().split("\n");
  assertEquals(lines[0].startsWith("┏"), true);
  assertEquals(lines[1].startsWith("┃ \x1b[1mLocation "), true);
  assertEquals(lines[1].includes("\x1b[1m<Total Memory>\x1b[0m"), true);
  const build = lines.find((l) => l.includes("build"))!;
  assertEquals(
    build,
    "│ \x1b[1;35mbuild\x1b[0m at \x1b[36m/work/app/app.py\x1b[0m    │        \x1b[31m2.008MB\x1b[0m │" +
      "        \x1b[31m100.00%\x1b[0m │    \x1b[31m2.008MB\x1b[0m │       \x1b[31m100.00%\x1b[0m │" +
      "                \x1b[31m4\x1b[0m │",
  );
  await assertRejects(
    () => runSummary({ capturePath: path, sortColumn: 6 }),
    UsageError,
    "The --sort-column argument must be between 1 and 5",
  );
  await Deno.remove(dir, { recursive: true });
});
