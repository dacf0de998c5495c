/**
 * Benchmark: python alone vs our CLI vs memray 1.20, each workload under each mode.
 *
 *   .tools/bin/deno run -A bench/run.ts [--repeat N] [--only NAME[,NAME]] [--json PATH]
 *
 * Runs are interleaved round-robin (every repeat runs every variant of a workload back to back,
 * starting with a different variant each time) because this machine is noisy; ratios are medians
 * over repeats of the ratio to the python run of the same repeat. Times are of the whole command a
 * user types (`main.ts run ...`, `python -m memray run ...`): start-up of our Deno CLI is included,
 * and its parts are reported apart.
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build_report, type Cell, type Sample } from "./report.ts";
import { rotate } from "./stats.ts";
import { make_probes, make_variants, type Probe, type Variant } from "./variants.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const DEFAULT_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3.11";
const TIME_BINARY = "/usr/bin/time";

interface Workload {
  name: string;
  path: string;
}

interface RunResult {
  sample?: Sample;
  error?: string;
}

interface RunOptions {
  env: Record<string, string>;
  timeout_ms: number;
  /** Where the variant writes its capture; removed before and after the run. */
  output_path?: string;
  /** `/usr/bin/time`, when present, to read the CPU time of the command and its descendants. */
  time_binary?: string;
  /** Scratch file for `/usr/bin/time -o`. */
  time_path: string;
}

function parse_options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      repeat: { type: "string", default: "5" },
      only: { type: "string" },
      json: { type: "string" },
      python: { type: "string", default: DEFAULT_PYTHON },
      "timeout-s": { type: "string", default: "300" },
      "no-memray": { type: "boolean", default: false },
      "from-json": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno run -A bench/run.ts [--repeat N] [--only NAME[,NAME]] [--json PATH]\n" +
        "                                [--python PATH] [--timeout-s S] [--no-memray]\n" +
        "       deno run -A bench/run.ts --from-json PATH   (re-print a saved run's tables)",
    );
    Deno.exit(0);
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new Error(`Cannot parse --repeat ${values.repeat}: expected a positive integer`);
  }
  const timeout_ms = Number(values["timeout-s"]) * 1000;
  if (!(timeout_ms > 0)) throw new Error(`Cannot parse --timeout-s ${values["timeout-s"]}`);
  const only = values.only?.split(",").map((name) => name.trim()).filter((name) => name !== "");
  return {
    repeat,
    only,
    json: values.json,
    python: values.python,
    timeout_ms,
    no_memray: values["no-memray"],
    from_json: values["from-json"],
  };
}

function list_workloads(only: string[] | undefined): Workload[] {
  const workloads: Workload[] = [];
  for (const entry of Deno.readDirSync(join(BENCH_DIR, "workloads"))) {
    if (entry.isFile && entry.name.endsWith(".py")) {
      workloads.push({
        name: basename(entry.name, ".py"),
        path: join(BENCH_DIR, "workloads", entry.name),
      });
    }
  }
  workloads.push({ name: "micro_alloc", path: join(BENCH_DIR, "micro_alloc.py") });
  workloads.sort((a, b) => a.name.localeCompare(b.name));
  if (only === undefined) return workloads;
  const known = new Set(workloads.map((workload) => workload.name));
  for (const name of only) {
    if (!known.has(name)) {
      throw new Error(`Cannot select workload ${name}: known are ${[...known].join(", ")}`);
    }
  }
  return workloads.filter((workload) => only.includes(workload.name));
}

/** Environment for every child: the benchmark interpreter's directory first on PATH (no shim). */
function child_env(python: string): Record<string, string> {
  const env = Deno.env.toObject();
  env.PATH = `${dirname(python)}:${env.PATH ?? "/usr/bin:/bin"}`;
  env.PYENV_VERSION = "3.11.7";
  delete env.LD_PRELOAD;
  return env;
}

/** Parses `/usr/bin/time -f "%U %S"` output into user+sys seconds. */
export function parse_cpu_seconds(text: string): number | undefined {
  const fields = text.trim().split("\n").at(-1)?.trim().split(/\s+/).map(Number) ?? [];
  if (fields.length !== 2 || fields.some((field) => !Number.isFinite(field))) return undefined;
  return fields[0] + fields[1];
}

// deno-lint-ignore no-control-regex -- the escape character is what an ANSI colour code starts with.
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** The most telling line of a failed run's stderr: the first one naming an error, else the last. */
export function summarize_stderr(stderr: string): string {
  // Strip ANSI colour codes (Deno colours its errors even into a pipe in some setups).
  const lines = stderr.replace(ANSI_COLOUR, "").split("\n").map((line) => line.trim())
    .filter((line) => line !== "");
  const telling = lines.find((line) => /error|cannot|traceback/i.test(line)) ?? lines.at(-1) ?? "";
  return telling.length > 300 ? `${telling.slice(0, 300)}...` : telling;
}

async function run_timed(argv: string[], options: RunOptions): Promise<RunResult> {
  if (options.output_path !== undefined) await Deno.remove(options.output_path).catch(() => {});
  const full_argv = options.time_binary === undefined
    ? argv
    : [options.time_binary, "-f", "%U %S", "-o", options.time_path, ...argv];
  const command = new Deno.Command(full_argv[0], {
    args: full_argv.slice(1),
    cwd: ROOT,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeout_ms),
  });
  const start_ms = performance.now();
  let output: Deno.CommandOutput;
  try {
    output = await command.output();
  } catch (error) {
    return { error: `${argv.join(" ")}: ${error}` };
  }
  const seconds = (performance.now() - start_ms) / 1000;
  if (!output.success) {
    const stderr = summarize_stderr(new TextDecoder().decode(output.stderr));
    return { error: `exit ${output.code}${output.signal ? ` (${output.signal})` : ""}: ${stderr}` };
  }
  const cpu_seconds = options.time_binary === undefined
    ? undefined
    : parse_cpu_seconds(await Deno.readTextFile(options.time_path).catch(() => ""));
  if (options.output_path === undefined) return { sample: { seconds, cpu_seconds } };
  try {
    const capture_bytes = (await Deno.stat(options.output_path)).size;
    await Deno.remove(options.output_path);
    return { sample: { seconds, cpu_seconds, capture_bytes } };
  } catch {
    return { error: `no capture written at ${options.output_path}` };
  }
}

function new_cell(repeat: number): Cell {
  return { samples: new Array(repeat).fill(undefined), errors: [] };
}

function record(cell: Cell, repeat: number, result: RunResult) {
  if (result.error !== undefined) cell.errors.push(result.error);
  cell.samples[repeat] = result.sample;
}

interface SavedRun {
  repeat: number;
  workloads: Record<
    string,
    { variants: Record<string, { samples: (Sample | null)[]; errors: string[] }> }
  >;
  probes: Record<string, { description: string; samples: (Sample | null)[] }>;
  unavailable: Record<string, string>;
}

/** Rebuilds the report input from a `--json` file, so tables can be re-printed without re-running. */
function report_input_from_json(saved: SavedRun) {
  const to_cell = (samples: (Sample | null)[], errors: string[] = []): Cell => ({
    samples: samples.map((sample) => sample ?? undefined),
    errors,
  });
  const first = Object.values(saved.workloads)[0]?.variants ?? {};
  const variants = Object.keys(first).map((name) => ({
    name,
    tool: name.split(":")[0] as Variant["tool"],
  }));
  return {
    workloads: Object.keys(saved.workloads).map((name) => ({ name })),
    variants,
    cells: new Map(
      Object.entries(saved.workloads).map(([name, workload]) => [
        name,
        new Map(
          Object.entries(workload.variants).map(([variant, cell]) => [
            variant,
            to_cell(cell.samples, cell.errors),
          ]),
        ),
      ]),
    ),
    probes: Object.entries(saved.probes).map(([name, probe]) => ({
      name,
      description: probe.description,
    })),
    probe_cells: new Map(
      Object.entries(saved.probes).map(([name, probe]) => [
        name,
        to_cell(probe.samples),
      ]),
    ),
    unavailable: new Map(Object.entries(saved.unavailable)),
    repeat: saved.repeat,
  };
}

async function main() {
  const options = parse_options();
  if (options.from_json !== undefined) {
    const saved = JSON.parse(await Deno.readTextFile(options.from_json)) as SavedRun;
    console.log(build_report(report_input_from_json(saved)).text);
    return;
  }
  const memray_python = join(ROOT, ".tools/memray-venv/bin/python");
  const has_memray = !options.no_memray &&
    await Deno.stat(memray_python).then(() => true, () => false);
  const paths = {
    python: options.python,
    deno: Deno.execPath(),
    main_ts: join(ROOT, "main.ts"),
    memray_python: has_memray ? memray_python : undefined,
  };
  const has_time = await Deno.stat(TIME_BINARY).then(() => true, () => false);
  const out_dir = await Deno.makeTempDir({ prefix: "memrayd-bench-" });
  const run_options = {
    env: child_env(options.python),
    timeout_ms: options.timeout_ms,
    time_binary: has_time ? TIME_BINARY : undefined,
    time_path: join(out_dir, "time.txt"),
  };
  const workloads = list_workloads(options.only);
  const empty_script = join(BENCH_DIR, "workloads", "empty.py");

  // Warm-up (fills Deno's module cache, writes .pyc files) and availability check per variant.
  const unavailable = new Map<string, string>();
  let variants: Variant[] = make_variants(paths);
  for (const variant of variants) {
    const output_path = variant.tool === "python" ? undefined : join(out_dir, "warmup.bin");
    const result = await run_timed(variant.argv(empty_script, output_path ?? ""), {
      ...run_options,
      output_path,
    });
    if (result.error !== undefined) unavailable.set(variant.name, result.error);
  }
  if (unavailable.has("python")) throw new Error(`Cannot run python: ${unavailable.get("python")}`);
  for (const [name, error] of unavailable) console.error(`[bench] skipping ${name}: ${error}`);
  variants = variants.filter((variant) => !unavailable.has(variant.name));
  let probes: Probe[] = make_probes(paths);
  if (!variants.some((variant) => variant.tool === "ours")) {
    probes = probes.filter((probe) => !probe.argv.includes(paths.main_ts));
  }

  const cells = new Map<string, Map<string, Cell>>();
  for (const workload of workloads) {
    cells.set(
      workload.name,
      new Map(variants.map((variant) => [variant.name, new_cell(options.repeat)])),
    );
  }
  const probe_cells = new Map(probes.map((probe) => [probe.name, new_cell(options.repeat)]));
  const total_runs = options.repeat * (workloads.length * variants.length + probes.length);
  let done_runs = 0;
  for (let repeat = 0; repeat < options.repeat; repeat += 1) {
    for (const probe of rotate(probes, repeat)) {
      record(probe_cells.get(probe.name)!, repeat, await run_timed(probe.argv, run_options));
      done_runs += 1;
    }
    for (const workload of workloads) {
      for (const variant of rotate(variants, repeat)) {
        const output_path = variant.tool === "python"
          ? undefined
          : join(out_dir, `${workload.name}.bin`);
        const result = await run_timed(variant.argv(workload.path, output_path ?? ""), {
          ...run_options,
          output_path,
        });
        record(cells.get(workload.name)!.get(variant.name)!, repeat, result);
        done_runs += 1;
        const status = result.sample === undefined
          ? `FAILED ${result.error}`
          : `${result.sample.seconds.toFixed(2)} s`;
        console.error(
          `[bench] ${done_runs}/${total_runs} ${workload.name} ${variant.name}: ${status}`,
        );
      }
    }
  }
  await Deno.remove(out_dir, { recursive: true }).catch(() => {});

  const report = build_report({
    workloads,
    variants,
    cells,
    probes,
    probe_cells,
    unavailable,
    repeat: options.repeat,
  });
  console.log(report.text);
  if (options.json !== undefined) {
    await Deno.writeTextFile(options.json, JSON.stringify(report.json, null, 2) + "\n");
    console.error(`[bench] wrote ${options.json}`);
  }
}

if (import.meta.main) await main();
