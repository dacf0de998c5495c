/**
 * The big-capture benchmark (issue 4): makes the ~10 M-allocation workload (make.py) with our
 * tool and with memray 1.20, then times, side by side, our `stats` and `summary` (the peak
 * snapshot) against memray's `stats`, and our reader on memray's capture. Wall time, CPU time
 * (user + system: steadier than wall time on a busy machine) and peak RSS come from GNU time;
 * each cell is the median of `--repeat` runs. The report library used is the one `main.ts` finds
 * (`MEMRAY_DENO_REPORT_LIB` overrides it; build it with `-Doptimize=ReleaseFast`).
 *
 *   .tools/bin/deno run -A bench/big_capture/run.ts [--repeat 3] [--dir /tmp/big] [--keep]
 *   [--allocations N]
 */
const root = new URL("../..", import.meta.url).pathname;
const args = Deno.args;
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const repeat = Number(opt("--repeat", "3"));
const dir = opt("--dir", "/tmp/big_capture");
const allocations = opt("--allocations", "10000000");
const deno = `${root}.tools/bin/deno`;
const memray_python = `${root}.tools/memray-venv/bin/python`;
const script = `${root}bench/big_capture/make.py`;
const ours_capture = `${dir}/ours.bin`;
const memray_capture = `${dir}/memray.bin`;

interface Sample {
  seconds: number;
  cpu_seconds: number;
  max_rss_kb: number;
}

/** Runs a command under GNU time; stdout is discarded. */
async function timed(cmd: string[]): Promise<Sample> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %U %S %M", ...cmd],
    stdout: "null",
    stderr: "piped",
    cwd: dir,
  }).output();
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${lines.join("\n")}`);
  const [seconds, user, system, rss] = lines[lines.length - 1].split(" ").map(Number);
  return { seconds, cpu_seconds: user + system, max_rss_kb: rss };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await Deno.mkdir(dir, { recursive: true });
if (!args.includes("--keep")) {
  console.log(`making ${allocations} allocations with ours and memray (about a minute)...`);
  const make_ours = await timed([
    deno,
    "run",
    "-A",
    `${root}main.ts`,
    "run",
    "-q",
    "-f",
    "-o",
    ours_capture,
    script,
    allocations,
  ]);
  const make_memray = await timed([
    memray_python,
    "-m",
    "memray",
    "run",
    "-q",
    "-f",
    "-o",
    memray_capture,
    script,
    allocations,
  ]);
  console.log(`run: ours ${make_ours.seconds} s, memray ${make_memray.seconds} s`);
}
for (const f of [ours_capture, memray_capture]) {
  console.log(`${f}: ${((await Deno.stat(f)).size / 2 ** 20).toFixed(1)} MiB`);
}

const ours = (cmd: string, capture: string) => [deno, "run", "-A", `${root}main.ts`, cmd, capture];
const cases: [string, string[]][] = [
  ["memray stats (memray capture)", [
    memray_python,
    "-m",
    "memray",
    "stats",
    "-f",
    "--json",
    "-o",
    `${dir}/m.json`,
    memray_capture,
  ]],
  ["ours stats (our capture)", ours("stats", ours_capture)],
  ["ours summary = peak snapshot (our capture)", ours("summary", ours_capture)],
  ["ours stats (memray capture)", ours("stats", memray_capture)],
  ["ours summary (memray capture)", ours("summary", memray_capture)],
];
const results = new Map<string, Sample[]>();
for (let r = 0; r < repeat; r++) {
  for (const [name, cmd] of cases) {
    const s = await timed(cmd);
    results.set(name, [...(results.get(name) ?? []), s]);
  }
}
const base = median(results.get(cases[0][0])!.map((s) => s.seconds));
console.log(
  `\n| command | wall s (median of ${repeat}) | vs memray stats | CPU s | peak RSS MiB |`,
);
console.log("| --- | --- | --- | --- | --- |");
for (const [name] of cases) {
  const ss = results.get(name)!;
  const t = median(ss.map((s) => s.seconds));
  const cpu = median(ss.map((s) => s.cpu_seconds));
  const rss = median(ss.map((s) => s.max_rss_kb)) / 1024;
  console.log(
    `| ${name} | ${t.toFixed(2)} | ${(t / base).toFixed(2)}x | ${cpu.toFixed(2)} | ${
      rss.toFixed(0)
    } |`,
  );
}
