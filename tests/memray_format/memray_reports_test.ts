/**
 * Our `stats`, `parse` and `summary` on captures memray 1.20 itself writes, compared with memray's
 * own output of the same files: line for line where memray is deterministic. memray orders equal
 * values in its top lists by hash-map order, so entries tied on their value are compared as a set.
 * Skipped, with a message, when memray 1.20 is not installed in .tools/memray-venv.
 */
import { isCpythonInternal } from "../../lib/analysis/frame_filter.ts";
import { ReportStacks } from "../../lib/analysis/report_stacks.ts";
import { ModuleResolver } from "../../lib/analysis/stats.ts";
import { parseMemrayHeader } from "../../lib/memray_format/header.ts";
import { runParse } from "../../reporters/parse.ts";
import { pythonJsonDump, runStats } from "../../reporters/stats.ts";
import { runSummary } from "../../reporters/summary.ts";
import { assert_, assertEquals } from "../support/assert.ts";
import {
  HAVE_MEMRAY,
  MEMRAY_PYTHON,
  memrayCaptures,
  runMemrayPython,
  Spec,
} from "./memray_setup.ts";

if (!HAVE_MEMRAY) {
  console.warn(`memray report comparisons skipped: memray 1.20.0 not found at ${MEMRAY_PYTHON}`);
}

const SPECS: Spec[] = [
  { name: "nested", script: "nested.py", flags: [] },
  { name: "nested_native", script: "nested.py", flags: ["--native"] },
  {
    name: "pyalloc_native_raw",
    script: "leak_pyalloc.py",
    flags: ["--trace-python-allocators", "--native", "--no-compress"],
  },
  { name: "crash", script: "crash.py", flags: [], crash: true },
  { name: "unicode", script: "unicode_names.py", flags: ["--no-compress"] },
  {
    name: "agg_native_raw",
    script: "nested.py",
    flags: ["--aggregate", "--native", "--no-compress"],
    aggregated: true,
  },
];

const text = (b: Uint8Array) => new TextDecoder().decode(b);

const captures = memrayCaptures({
  prefix: "memray_reports_",
  scripts: ["nested.py", "crash.py", "leak_pyalloc.py", "unicode_names.py"],
  specs: SPECS,
});

async function memrayStdout(dir: string, args: string[], env = {}): Promise<string> {
  const out = await runMemrayPython(["-m", "memray", ...args], dir, env);
  assert_(out.success, `memray ${args.join(" ")}: ${text(out.stderr)}`);
  return text(out.stdout);
}

/**
 * Sorts each run of consecutive "\t- " lines that share their value (after " -> ", or after the
 * module name's ": "), so that hash-map order of ties does not matter. A run that ends a list of
 * `full` entries may have been cut by the top-N limit, where memray keeps a hash-map-chosen subset:
 * its names are replaced by "<tied>".
 */
function canonicalTies(report: string, full: number): string {
  const lines = report.split("\n");
  const value = (l: string) =>
    l.includes(" -> ") ? l.slice(l.lastIndexOf(" -> ")) : l.slice(l.indexOf(": "));
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith("\t- ")) {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j].startsWith("\t- ") && value(lines[j]) === value(lines[i])) {
      j++;
    }
    let start = i;
    while (start > 0 && lines[start - 1].startsWith("\t- ")) start--;
    let stop = j;
    while (stop < lines.length && lines[stop].startsWith("\t- ")) stop++;
    const cut = j === stop && stop - start === full;
    const run = lines.slice(i, j).map((l) => cut ? `\t- <tied>${value(l)}` : l).sort();
    lines.splice(i, j - i, ...run);
    i = j;
  }
  return lines.join("\n");
}

/** The JSON document with each top list's ties sorted by name (and cut ties as "<tied>"). */
function canonicalJson(doc: Record<string, unknown>, full: number): Record<string, unknown> {
  const lists: [string, string, string][] = [
    ["top_allocations_by_size", "size", "location"],
    ["top_allocations_by_count", "count", "location"],
    ["top_modules_by_allocation_size", "total_bytes", "module"],
    ["top_modules_by_allocation_count", "num_allocations", "module"],
  ];
  const out = { ...doc };
  for (const [key, value, name] of lists) {
    const list = [...(doc[key] as Record<string, string | number>[])];
    const last = list.length ? list[list.length - 1][value] : undefined;
    out[key] = list.map((e) =>
      list.length === full && e[value] === last ? { ...e, [name]: "<tied>" } : e
    ).sort((a, b) =>
      (b[value] as number) - (a[value] as number) || String(a[name]).localeCompare(String(b[name]))
    );
  }
  return out;
}

const isNative = (spec: Spec) => spec.flags.includes("--native");

for (const spec of SPECS.filter((s) => !s.aggregated && !isNative(s))) {
  Deno.test({
    name: `memray 1.20 ${spec.name}: stats terminal report equals memray stats line for line`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      // -n 5 (the default), and -n 1000: every location, so no tie is cut by the limit.
      for (const n of [5, 1000]) {
        const theirs = await memrayStdout(dir, ["stats", "-n", String(n), `${spec.name}.bin`]);
        let ours = "";
        await runStats({
          capturePath: `${dir}/${spec.name}.bin`,
          numLargest: n,
          stdout: (t) => ours += t,
          stdoutIsTerminal: false,
        });
        assertEquals(canonicalTies(ours, n), canonicalTies(theirs, n), `-n ${n}`);
      }
    },
  });

  Deno.test({
    name: `memray 1.20 ${spec.name}: stats JSON equals memray's (keys, order, types, times)`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      await memrayStdout(dir, ["stats", "--json", "-f", "-o", "theirs.json", `${spec.name}.bin`]);
      const theirs = await Deno.readTextFile(`${dir}/theirs.json`);
      const ours_path = `${dir}/${spec.name}.ours.json`;
      await runStats({
        capturePath: `${dir}/${spec.name}.bin`,
        json: true,
        force: true,
        outputPath: ours_path,
        stdout: () => {},
        stdoutIsTerminal: false,
      });
      const ours = await Deno.readTextFile(ours_path);
      const canon_ours = canonicalJson(JSON.parse(ours), 5);
      const canon_theirs = canonicalJson(JSON.parse(theirs), 5);
      // Byte for byte through the same dumper (layout, key order, ensure_ascii escapes) ...
      assertEquals(pythonJsonDump(canon_ours), pythonJsonDump(canon_theirs));
      // ... and memray's own bytes wherever no tie was reordered.
      if (pythonJsonDump(canon_theirs) === theirs) {
        if (pythonJsonDump(canon_ours) === ours) assertEquals(ours, theirs);
      }
    },
  });
}

/**
 * memray's own hybrid-stack leaf of every allocation of a capture, CPython's own frames dropped
 * as our reports drop them: "function:file base name:line" -> [bytes, count].
 */
async function memrayHybridLeaves(dir: string, capture: string): Promise<Map<string, number[]>> {
  const code = `
import json, sys
from memray import AllocatorType, FileReader
FREES = {AllocatorType.FREE, AllocatorType.MUNMAP, AllocatorType.PYMALLOC_FREE}
for r in FileReader(sys.argv[1]).get_allocation_records():
    if r.allocator not in FREES:
        print(json.dumps([r.size, [list(f) for f in r.hybrid_stack_trace()]]))
`;
  const out = await runMemrayPython(["-c", code, capture], dir);
  assert_(out.success, `memray's hybrid stacks: ${text(out.stderr)}`);
  const leaves = new Map<string, number[]>();
  for (const line of text(out.stdout).trim().split("\n")) {
    const [size, stack] = JSON.parse(line) as [number, [string, string, number][]];
    const leaf = stack.find(([f, file]) => !isCpythonInternal({ function: f, filename: file }));
    const key = leaf ? `${leaf[0]}:${baseName(leaf[1])}:${leaf[2]}` : "<stack trace unavailable>";
    const totals = leaves.get(key) ?? [0, 0];
    leaves.set(key, [totals[0] + size, totals[1] + 1]);
  }
  return leaves;
}

const baseName = (file: string) => file.slice(file.lastIndexOf("/") + 1);

/** A stats location "function:file:line" with the file's base name (memray's are relative). */
function shortLocation(location: string): string {
  const m = /^(.*?):(.*):(\d+)$/.exec(location);
  return m === null ? location : `${m[1]}:${baseName(m[2])}:${m[3]}`;
}

/** The terminal report without the lines of its two top-location lists. */
function withoutTopLocations(report: string): string {
  let in_locations = false;
  return report.split("\n").filter((l) => {
    if (!l.startsWith("\t- ")) in_locations = l.includes("largest allocating locations");
    return !(in_locations && l.startsWith("\t- "));
  }).join("\n");
}

// memray 1.20's stats names the leaf *Python* frame even of a --native capture (it never reads
// the native stack there), so the C function that asked for the memory is invisible. Ours names
// the leaf of the merged native+Python stack, as our summary and tree do: a deliberate
// improvement. Everything else (totals, histogram, allocators, modules, metadata) equals memray's;
// the top locations equal those of memray's own hybrid stacks (FileReader.hybrid_stack_trace).
for (const spec of SPECS.filter((s) => !s.aggregated && isNative(s))) {
  Deno.test({
    name: `memray 1.20 ${spec.name}: stats equals memray's but names the merged stacks' leaves`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      const capture = `${dir}/${spec.name}.bin`;
      const stacks = new ReportStacks({ debuginfod: false, warn: () => {} });
      try {
        const run = async (options: { numLargest: number; json?: boolean }) => {
          let out = "";
          await runStats({
            capturePath: capture,
            outputPath: `${dir}/${spec.name}.ours.json`,
            force: true,
            stdout: (t) => out += t,
            stdoutIsTerminal: false,
            stacks,
            ...options,
          });
          return out;
        };
        // The terminal report, top locations aside, line for line.
        const theirs = await memrayStdout(dir, ["stats", `${spec.name}.bin`]);
        const ours = await run({ numLargest: 5 });
        assertEquals(
          canonicalTies(withoutTopLocations(ours), 5),
          canonicalTies(withoutTopLocations(theirs), 5),
        );
        assert_(ours.includes(".c:"), `C functions among our top locations:\n${ours}`);
        // The JSON, every location: top lists aside, equal; the locations, memray's hybrid leaves.
        const all = "100000";
        await memrayStdout(dir, [
          "stats",
          "--json",
          "-n",
          all,
          "-f",
          "-o",
          "theirs.json",
          `${spec.name}.bin`,
        ]);
        const their_doc = JSON.parse(await Deno.readTextFile(`${dir}/theirs.json`));
        await run({ numLargest: Number(all), json: true });
        const our_doc = JSON.parse(await Deno.readTextFile(`${dir}/${spec.name}.ours.json`));
        const tops = ["top_allocations_by_size", "top_allocations_by_count"];
        const rest = (doc: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, tops.includes(k) ? [] : v]));
        assertEquals(
          pythonJsonDump(canonicalJson(rest(our_doc), Number(all))),
          pythonJsonDump(canonicalJson(rest(their_doc), Number(all))),
        );
        const by_size = our_doc.top_allocations_by_size as { location: string; size: number }[];
        const by_count = our_doc.top_allocations_by_count as { location: string; count: number }[];
        const counts = new Map(by_count.map((e) => [shortLocation(e.location), e.count]));
        const got = new Map(by_size.map((e) => [
          shortLocation(e.location),
          [e.size, counts.get(shortLocation(e.location)) ?? -1],
        ]));
        const expected = await memrayHybridLeaves(dir, capture);
        // Every allocation is in one location, in both.
        const sum = (m: Map<string, number[]>, i: number) =>
          [...m.values()].reduce((a, v) => a + v[i], 0);
        assertEquals([sum(got, 0), sum(got, 1)], [sum(expected, 0), sum(expected, 1)]);
        assertEquals(sum(got, 1), our_doc.total_num_allocations);
        // Locations differ only where the symbolizers do (a line libbacktrace does not find), or
        // where our absolute source paths (".../Python-3.11.7/Parser/pegen.c") make the
        // CPython-frame filter drop a `_Py*` frame that memray's relative path keeps: a sliver.
        const same = [...got].filter(([k, v]) => expected.get(k)?.join() === v.join());
        const share = (i: number) => same.reduce((a, [, v]) => a + v[i], 0) / sum(expected, i);
        assert_(share(0) > 0.99 && share(1) > 0.98, `shares ${share(0)}, ${share(1)}`);
        const top = [...expected].sort((a, b) => b[1][0] - a[1][0])[0];
        assertEquals([shortLocation(by_size[0].location), by_size[0].size], [top[0], top[1][0]]);
        assert_(by_size.every((e, i) => i === 0 || by_size[i - 1].size >= e.size), "by size");
        assert_(by_count.every((e, i) => i === 0 || by_count[i - 1].count >= e.count), "by count");
      } finally {
        stacks.close();
      }
    },
  });
}

for (const spec of SPECS) {
  Deno.test({
    name: `memray 1.20 ${spec.name}: parse prints exactly what memray parse prints`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      const theirs = await memrayStdout(dir, ["parse", `${spec.name}.bin`]);
      let ours = "";
      await runParse({
        capturePath: `${dir}/${spec.name}.bin`,
        stdout: (t) => ours += t,
        stdoutIsTerminal: false,
      });
      assert_(theirs.split("\n").length > 20, "memray's dump has records");
      assertEquals(ours, theirs);
    },
  });
}

for (const name of ["pyalloc_native_raw", "agg_native_raw"]) {
  Deno.test({
    name: `memray 1.20 ${name}: parse of a file cut anywhere stops where memray's stops`,
    ignore: !HAVE_MEMRAY,
    async fn() {
      const dir = await captures();
      const raw = await Deno.readFile(`${dir}/${name}.bin`);
      let data_end = raw.length;
      while (raw[data_end - 1] === 0) data_end--;
      // Cut only past the header: its length depends on the paths of the machine that made the
      // capture, and memray refuses a file whose header is cut.
      const records_start = parseMemrayHeader(raw, name).size_bytes;
      const step = Math.max(1, Math.floor((data_end - records_start) / 13));
      for (let cut = records_start + 1; cut < data_end; cut += step) {
        await Deno.writeFile(`${dir}/cut.bin`, raw.subarray(0, cut));
        const theirs = await memrayStdout(dir, ["parse", "cut.bin"]);
        let ours = "";
        await runParse({
          capturePath: `${dir}/cut.bin`,
          stdout: (t) => ours += t,
          stdoutIsTerminal: false,
        });
        assertEquals(ours, theirs, `cut at ${cut}`);
      }
    },
  });
}

/** The cells of every row of a rich/our summary table. */
function tableRows(table: string): string[][] {
  return table.split("\n").filter((l) => l.startsWith("│"))
    .map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
}

/** Bytes of a summary size cell ("2.051MB", "756.000B"), as rich prints them. */
function cellBytes(cell: string): number {
  const match = /^([\d.]+)(B|kB|MB|GB|TB)$/.exec(cell);
  assert_(match !== null, `a size cell: ${cell}`);
  const scale = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[match[2]]!;
  return Number(match[1]) * scale;
}

/** `function` and file of a summary row's "function at file" location. */
function locationOf(cell: string): { function: string; file: string } {
  const at = cell.indexOf(" at ");
  return { function: cell.slice(0, at), file: cell.slice(at + 4) };
}

Deno.test({
  name: "memray 1.20 nested_native: summary --native rows (native and Python) equal memray's " +
    "hybrid rows; memray's extra rows are CPython's own frames, which we drop",
  ignore: !HAVE_MEMRAY,
  async fn() {
    const dir = await captures();
    const theirs = tableRows(
      await memrayStdout(dir, ["summary", "-r", "1000", "nested_native.bin"], {
        COLUMNS: "1000",
        NO_COLOR: "1",
      }),
    );
    let table = "";
    const stacks = new ReportStacks({ debuginfod: false });
    try {
      await runSummary({
        capturePath: `${dir}/nested_native.bin`,
        maxRows: 1000,
        color: false,
        stdout: (t) => table += t,
        stacks,
      });
    } finally {
      stacks.close();
    }
    const ours = tableRows(table);
    const native = ours.filter((r) => /\.[ch] *$/.test(locationOf(r[0]).file));
    assert_(native.length > 10, `our summary has native rows: ${native.length}`);
    assert_(ours.some((r) => r[0] === "leaf at nested.py"), "and Python rows");
    // A row of memray's matches ours by function and file: our files are the whole path
    // (compilation directory joined), libbacktrace's are DWARF's name as written.
    const matched = new Set<string[]>();
    for (const row of ours) {
      const location = locationOf(row[0]);
      const match = theirs.filter((r) => {
        const their = locationOf(r[0]);
        return their.function === location.function &&
          location.file.endsWith(their.file.replace(/^\.\//, ""));
      });
      assertEquals(match.length, 1, `memray has one row for ${row[0]}`);
      matched.add(match[0]);
      assertEquals([row[1], row[2], row[5]], [match[0][1], match[0][2], match[0][5]], row[0]);
      // Own memory moves from a dropped CPython leaf (e.g. _PyObject_Malloc) to its caller.
      if (row[3] !== match[0][3]) {
        assert_(cellBytes(row[3]) > cellBytes(match[0][3]), `own memory of ${row[0]} grows`);
      }
    }
    const unmatched = theirs.filter((r) => !matched.has(r));
    assert_(unmatched.length > 0, "memray keeps CPython's frames in its summary");
    for (const row of unmatched) {
      const location = locationOf(row[0]);
      assert_(
        isCpythonInternal({ function: location.function, filename: location.file }),
        `memray's row ${row[0]} is CPython's own frame`,
      );
    }
  },
});

Deno.test({
  name: "memray 1.20 ModuleResolver: our module names and types equal memray's module_tools",
  ignore: !HAVE_MEMRAY,
  async fn() {
    const info = {
      stdlib: "/usr/lib/python3.11",
      site_packages: ["/usr/lib/python3.11/site-packages", "/home/u/.local/site-packages"],
      sys_path: ["/work/app", "/usr/lib/python3.11", "/work", "rel/dir"],
    };
    const files = [
      "/usr/lib/python3.11/site-packages/numpy/core/multiarray.py",
      "/usr/lib/python3.11/site-packages/pkg/__init__.py",
      "/usr/lib/python3.11/site-packages/__init__.py",
      "/usr/lib/python3.11/json/decoder.py",
      "/usr/lib/python3.11/os.py",
      "<frozen importlib._bootstrap>",
      "<frozen runpy>",
      "/work/app/pkg/mod.py",
      "/work/other/x.py",
      "/work//app/./m.py",
      "/work/app/../y.py",
      "/opt/tool/runner.py",
      "/opt/lib/_speedups.cpython-311.so",
      "/opt/lib/__init__.py",
      "/opt/lib/.hidden.py",
      "/opt/lib/name.py.py",
      "<string>",
      "<stdin>",
      "",
      "rel/dir/z.py",
      "/",
    ];
    const script = `
import json, sys, pathlib
from memray.reporters.module_tools import ModuleResolver
info, files = json.load(sys.stdin)
r = ModuleResolver({"stdlib": pathlib.Path(info["stdlib"]),
    "site_packages": [pathlib.Path(p) for p in info["site_packages"]],
    "sys_path": [pathlib.Path(p) for p in info["sys_path"]]})
print(json.dumps([list(r.extract_module_name_and_type(f)) for f in files]))
`;
    const child = new Deno.Command(MEMRAY_PYTHON, {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify([info, files])));
    await writer.close();
    const out = await child.output();
    assert_(out.success, text(out.stderr));
    const theirs = JSON.parse(text(out.stdout));
    const resolver = new ModuleResolver(info);
    assertEquals(files.map((f) => resolver.moduleOf(f)), theirs);
  },
});
