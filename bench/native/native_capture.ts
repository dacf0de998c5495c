/**
 * How the native benchmarks (bench/native/run.ts, tests/native_symbols/symbolizer_bench.ts)
 * capture a workload under our profiler: `main.ts run -q --native` with the project's Deno.
 */

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

/** The project's Deno. */
export const DENO = `${ROOT}/.tools/bin/deno`;

/** The {@link DENO} arguments that run `workload` under `python`, native stacks, into `output`. */
export function nativeRunArgs(python: string, workload: string, output: string): string[] {
  return [
    "run",
    "-A",
    `${ROOT}/main.ts`,
    "run",
    "-q",
    "--native",
    "--python",
    python,
    "-o",
    output,
    workload,
  ];
}
