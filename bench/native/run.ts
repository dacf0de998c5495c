/**
 * `--native` report speed against memray 1.20 (issue 6 "Speed"): captures a numpy workload with
 * `run --native` under ours and under memray, then times `flamegraph` of each capture, side by
 * side: ours on our capture, memray on its capture, and ours on memray's capture (the same file
 * for both tools). Prints a Markdown table of medians.
 *
 *     .tools/bin/deno run -A bench/native/run.ts [--repeat 5] [--python PATH] [--workload PATH]
 *
 * numpy comes from a throwaway venv (default `.tools/numpy-venv`, made with
 * `python3.11 -m venv .tools/numpy-venv && .tools/numpy-venv/bin/pip install numpy`); without
 * one the workload falls back to tests/native_symbols/symbolizer_workload.py.
 */
import { parseArgs } from "node:util";
import { exists } from "../../reporters/output_file.ts";
import { DENO, nativeRunArgs } from "./native_capture.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const MEMRAY_PYTHON = `${ROOT}/.tools/memray-venv/bin/python`;

interface Timed {
  ms: number;
  ok: boolean;
  stderr: string;
}

/** Runs a command (no debuginfod servers: both tools would otherwise go to the network). */
async function timed(cmd: string, args: string[], cwd: string, env = {}): Promise<Timed> {
  const started = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...env, DEBUGINFOD_URLS: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  return { ms, ok: out.success, stderr: new TextDecoder().decode(out.stderr) };
}

function must(result: Timed, what: string): Timed {
  if (!result.ok) throw new Error(`${what} failed:\n${result.stderr}`);
  // A report without native frames would time the wrong thing.
  if (result.stderr.includes("Cannot load the native symbolizer")) {
    throw new Error(`${what} ran without the symbolizer:\n${result.stderr}`);
  }
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The distinct native frames (instruction pointers) of a capture, as memray's stats count them. */
async function captureFacts(path: string): Promise<string> {
  const { readCapture } = await import("../../lib/capture/reader.ts");
  const capture = await readCapture(path);
  return `${capture.events.count.toLocaleString("en-US")} events, ` +
    `${capture.native.frames.ip.length.toLocaleString("en-US")} distinct native frames`;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    args: Deno.args,
    options: {
      python: { type: "string" },
      workload: { type: "string" },
      repeat: { type: "string", default: "5" },
    },
  });
  const repeat = Number(args.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat ${args.repeat}`);
  const numpy_python = `${ROOT}/.tools/numpy-venv/bin/python`;
  const have_numpy = await exists(numpy_python);
  const python = args.python ??
    (have_numpy ? numpy_python : "/root/.pyenv/versions/3.11.7/bin/python3.11");
  const workload = args.workload ??
    (have_numpy
      ? `${ROOT}/bench/native/numpy_workload.py`
      : `${ROOT}/tests/native_symbols/symbolizer_workload.py`);
  if (!(await exists(MEMRAY_PYTHON))) throw new Error(`memray 1.20 is not at ${MEMRAY_PYTHON}`);

  const dir = await Deno.makeTempDir({ prefix: "memray-native-bench-" });
  // memray runs from its own venv; numpy comes from the workload's interpreter's site-packages.
  const site = new TextDecoder().decode(
    (await new Deno.Command(python, {
      args: ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
      stdout: "piped",
    }).output()).stdout,
  ).trim();
  const ours_bin = `${dir}/ours.bin`;
  const theirs_bin = `${dir}/memray.bin`;
  const run_ours = must(
    await timed(DENO, nativeRunArgs(python, workload, ours_bin), dir),
    "our run --native",
  );
  const run_theirs = must(
    await timed(
      MEMRAY_PYTHON,
      ["-m", "memray", "run", "-q", "--native", "-o", theirs_bin, workload],
      dir,
      {
        PYTHONPATH: site,
      },
    ),
    "memray run --native",
  );

  const cases: { name: string; capture: string; cmd: string; args: (out: string) => string[] }[] = [
    {
      name: "ours, our capture",
      capture: ours_bin,
      cmd: DENO,
      args: (o) => ["run", "-A", `${ROOT}/main.ts`, "flamegraph", "-f", "-o", o, ours_bin],
    },
    {
      name: "memray 1.20, its capture",
      capture: theirs_bin,
      cmd: MEMRAY_PYTHON,
      args: (o) => ["-m", "memray", "flamegraph", "-f", "-o", o, theirs_bin],
    },
    {
      name: "ours, memray's capture",
      capture: theirs_bin,
      cmd: DENO,
      args: (o) => ["run", "-A", `${ROOT}/main.ts`, "flamegraph", "-f", "-o", o, theirs_bin],
    },
  ];
  const samples = cases.map(() => [] as number[]);
  // Warm-up (Deno's module cache, memray's .pyc files), then round-robin repeats.
  for (const c of cases) must(await timed(c.cmd, c.args(`${dir}/warm.html`), dir), c.name);
  for (let r = 0; r < repeat; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length];
      const t = must(await timed(c.cmd, c.args(`${dir}/fg-${k}.html`), dir), c.name);
      samples[cases.indexOf(c)].push(t.ms);
    }
  }
  console.log(
    `workload: ${workload.replace(`${ROOT}/`, "")} (python ${python.replace(`${ROOT}/`, "")})`,
  );
  console.log(
    `run --native: ours ${(run_ours.ms / 1000).toFixed(2)} s, memray ${
      (run_theirs.ms / 1000).toFixed(2)
    } s`,
  );
  console.log(`our capture: ${await captureFacts(ours_bin)}`);
  console.log(`memray's capture: ${await captureFacts(theirs_bin)}\n`);
  console.log(`| flamegraph of | capture size | median of ${repeat} (s) | min (s) |`);
  console.log("|---|---:|---:|---:|");
  for (const [k, c] of cases.entries()) {
    const size = (await Deno.stat(c.capture)).size;
    console.log(
      `| ${c.name} | ${(size / 1e6).toFixed(1)} MB | ${(median(samples[k]) / 1000).toFixed(2)} | ${
        (Math.min(...samples[k]) / 1000).toFixed(2)
      } |`,
    );
  }
  await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await main();
