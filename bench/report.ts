/**
 * Turns the benchmark's samples into the printed tables and the `--json` document. Pure: takes
 * the samples, returns text and JSON, so it is tested with made-up numbers.
 * @module
 */
import { format_bytes, format_table, geomean, median, paired_ratio } from "./stats.ts";
import type { Probe, Variant } from "./variants.ts";

/** Not part of the geomean: start-up has its own line, the micro benchmark is a stress test. */
export const OUTSIDE_GEOMEAN: ReadonlySet<string> = new Set(["empty", "micro_alloc"]);

/** One completed run. */
export interface Sample {
  /** Wall time of the whole command, spawn to exit. */
  seconds: number;
  /** User + system CPU time of the command and every descendant it waited for. */
  cpu_seconds?: number;
  /** Size of the capture as written, when the variant writes one. */
  capture_bytes?: number;
}

/** Every run of one variant on one workload, indexed by repeat (`undefined` = that run failed). */
export interface Cell {
  samples: (Sample | undefined)[];
  errors: string[];
}

/** A workload's name (the script's base name). */
export interface WorkloadName {
  name: string;
}

/** What {@linkcode build_report} needs. */
export interface ReportInput {
  workloads: readonly WorkloadName[];
  /** Variants that ran, `python` first. */
  variants: readonly Pick<Variant, "name" | "tool">[];
  /** workload name → variant name → cell. */
  cells: ReadonlyMap<string, ReadonlyMap<string, Cell>>;
  probes: readonly Pick<Probe, "name" | "description">[];
  probe_cells: ReadonlyMap<string, Cell>;
  /** Variants skipped after failing their warm-up, with the reason. */
  unavailable: ReadonlyMap<string, string>;
  repeat: number;
}

const MODES = ["default", "native", "pyalloc"] as const;

function pick(cell: Cell | undefined, field: keyof Sample): (number | undefined)[] {
  return cell === undefined ? [] : cell.samples.map((sample) => sample?.[field]);
}

function median_of(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : median(present);
}

function fmt(value: number | undefined, digits = 2, suffix = ""): string {
  return value === undefined ? "n/a" : `${value.toFixed(digits)}${suffix}`;
}

/** Ratios (paired per repeat) of every profiled variant to python alone, per workload. */
function ratio_map(input: ReportInput, field: "seconds" | "cpu_seconds") {
  const profiled = input.variants.filter((variant) => variant.tool !== "python");
  const ratios = new Map<string, Map<string, number>>();
  for (const workload of input.workloads) {
    const row = input.cells.get(workload.name);
    const base = pick(row?.get("python"), field);
    const ratio_row = new Map<string, number>();
    for (const variant of profiled) {
      const ratio = paired_ratio(base, pick(row?.get(variant.name), field));
      if (ratio !== undefined) ratio_row.set(variant.name, ratio);
    }
    ratios.set(workload.name, ratio_row);
  }
  const in_geomean = input.workloads.filter((workload) => !OUTSIDE_GEOMEAN.has(workload.name));
  const geomeans = new Map<string, number | undefined>();
  for (const variant of profiled) {
    const values = in_geomean
      .map((workload) => ratios.get(workload.name)!.get(variant.name))
      .filter((value): value is number => value !== undefined);
    // A geomean over a subset would flatter a variant that failed its hardest workload.
    geomeans.set(
      variant.name,
      values.length === in_geomean.length ? geomean(values) : undefined,
    );
  }
  return { ratios, geomeans };
}

function ratio_table(
  input: ReportInput,
  field: "seconds" | "cpu_seconds",
  base_header: string,
): {
  text: string;
  ratios: Map<string, Map<string, number>>;
  geomeans: Map<string, number | undefined>;
} {
  const profiled = input.variants.filter((variant) => variant.tool !== "python");
  const { ratios, geomeans } = ratio_map(input, field);
  const text = format_table({
    header: ["workload", base_header, ...profiled.map((variant) => variant.name)],
    rows: [
      ...input.workloads.map((workload) => {
        const row = input.cells.get(workload.name);
        return [
          OUTSIDE_GEOMEAN.has(workload.name) ? `${workload.name} *` : workload.name,
          fmt(median_of(pick(row?.get("python"), field)), 3),
          ...profiled.map((variant) => {
            const ratio = ratios.get(workload.name)!.get(variant.name);
            const failed = (row?.get(variant.name)?.errors.length ?? 0) > 0;
            return ratio === undefined && failed ? "FAIL" : fmt(ratio, 2, "x");
          }),
        ];
      }),
      ["geomean", "", ...profiled.map((variant) => fmt(geomeans.get(variant.name), 2, "x"))],
    ],
  });
  return { text, ratios, geomeans };
}

/**
 * Ratios with each command's own start-up taken out: per repeat, (workload - empty script) of the
 * variant over the same for python. Shows the cost while the program runs, which a short
 * workload otherwise hides behind the fixed start-up.
 */
function net_ratio_table(input: ReportInput) {
  const profiled = input.variants.filter((variant) => variant.tool !== "python");
  const empty = input.cells.get("empty");
  const net = (workload: string, variant: string) => {
    const own = pick(input.cells.get(workload)?.get(variant), "seconds");
    const start = pick(empty?.get(variant), "seconds");
    return own.map((seconds, index) =>
      seconds === undefined || start[index] === undefined ? undefined : seconds - start[index]!
    );
  };
  const ratios = new Map<string, Map<string, number>>();
  const measured = input.workloads.filter((workload) => workload.name !== "empty");
  for (const workload of measured) {
    const base = net(workload.name, "python");
    ratios.set(
      workload.name,
      new Map(profiled.flatMap((variant) => {
        const ratio = paired_ratio(base, net(workload.name, variant.name));
        return ratio === undefined ? [] : [[variant.name, ratio] as const];
      })),
    );
  }
  const in_geomean = measured.filter((workload) => !OUTSIDE_GEOMEAN.has(workload.name));
  const geomeans = new Map(profiled.map((variant) => {
    const values = in_geomean.map((workload) => ratios.get(workload.name)!.get(variant.name))
      .filter((value): value is number => value !== undefined && value > 0);
    return [variant.name, values.length === in_geomean.length ? geomean(values) : undefined];
  }));
  const text = format_table({
    header: ["workload", ...profiled.map((variant) => variant.name)],
    rows: [
      ...measured.map((workload) => [
        OUTSIDE_GEOMEAN.has(workload.name) ? `${workload.name} *` : workload.name,
        ...profiled.map((variant) => fmt(ratios.get(workload.name)!.get(variant.name), 2, "x")),
      ]),
      ["geomean", ...profiled.map((variant) => fmt(geomeans.get(variant.name), 2, "x"))],
    ],
  });
  return { text, ratios, geomeans };
}

/** Builds the printed report and the JSON document. */
export function build_report(input: ReportInput): { text: string; json: unknown } {
  const profiled = input.variants.filter((variant) => variant.tool !== "python");
  const wall = ratio_table(input, "seconds", "python s");
  const cpu = ratio_table(input, "cpu_seconds", "python cpu s");
  const net = input.cells.has("empty") ? net_ratio_table(input) : undefined;

  // Start-up: the empty script, in seconds over python alone (median of the paired differences).
  const empty = input.cells.get("empty");
  const empty_python = pick(empty?.get("python"), "seconds");
  const startup = new Map<string, number>();
  for (const variant of profiled) {
    const own = pick(empty?.get(variant.name), "seconds");
    const differences = own.map((seconds, index) =>
      seconds === undefined || empty_python[index] === undefined
        ? undefined
        : seconds - empty_python[index]!
    );
    const difference = median_of(differences);
    if (difference !== undefined) startup.set(variant.name, difference);
  }
  const startup_table = format_table({
    header: ["empty script", "python s", ...profiled.map((variant) => variant.name)],
    rows: [[
      "seconds over python",
      fmt(median_of(empty_python), 3),
      ...profiled.map((variant) => fmt(startup.get(variant.name), 3)),
    ]],
  });
  const probe_table = format_table({
    header: ["start-up part", "median s", "what it measures"],
    align: ["left", "right", "left"],
    rows: input.probes.map((probe) => [
      probe.name,
      fmt(median_of(pick(input.probe_cells.get(probe.name), "seconds")), 3),
      probe.description,
    ]),
  });

  const size_of = (workload: string, name: string) =>
    median_of(pick(input.cells.get(workload)?.get(name), "capture_bytes"));
  const size_table = format_table({
    header: [
      "workload",
      ...MODES.flatMap((mode) => [`ours:${mode}`, `memray:${mode}`, "ours/memray"]),
    ],
    rows: input.workloads.map((workload) => [
      workload.name,
      ...MODES.flatMap((mode) => {
        const ours = size_of(workload.name, `ours:${mode}`);
        const theirs = size_of(workload.name, `memray:${mode}`);
        return [
          ours === undefined ? "n/a" : format_bytes(ours),
          theirs === undefined ? "n/a" : format_bytes(theirs),
          ours !== undefined && theirs !== undefined ? (ours / theirs).toFixed(2) : "n/a",
        ];
      }),
    ]),
  });

  const failures: string[] = [];
  for (const [name, error] of input.unavailable) failures.push(`- ${name}: not run (${error})`);
  for (const workload of input.workloads) {
    for (const variant of input.variants) {
      const errors = input.cells.get(workload.name)?.get(variant.name)?.errors ?? [];
      if (errors.length > 0) {
        failures.push(
          `- ${workload.name} ${variant.name}: ${errors.length} failed, e.g. ${errors[0]}`,
        );
      }
    }
  }

  const text = [
    `## Wall time, ratio to python alone (median over ${input.repeat} repeats of the ratio to the ` +
    `python run of the same repeat; * = not in the geomean)`,
    wall.text,
    "",
    "## CPU time (user+sys, all processes), ratio to python alone",
    cpu.text,
    ...(net === undefined ? [] : [
      "",
      "## Wall time without start-up: (workload - empty script) over the same for python",
      net.text,
    ]),
    "",
    "## Start-up on the empty script (whole command, seconds over python alone)",
    startup_table,
    "",
    probe_table,
    "",
    "## Capture size (as written by default)",
    size_table,
    ...(failures.length > 0 ? ["", "## Failures", ...failures] : []),
  ].join("\n");

  const json = {
    date: new Date().toISOString(),
    repeat: input.repeat,
    workloads: Object.fromEntries(input.workloads.map((workload) => [workload.name, {
      variants: Object.fromEntries(input.variants.map((variant) => {
        const cell = input.cells.get(workload.name)?.get(variant.name);
        return [variant.name, {
          samples: cell?.samples ?? [],
          median_s: median_of(pick(cell, "seconds")) ?? null,
          ratio: wall.ratios.get(workload.name)!.get(variant.name) ?? null,
          cpu_ratio: cpu.ratios.get(workload.name)!.get(variant.name) ?? null,
          net_ratio: net?.ratios.get(workload.name)?.get(variant.name) ?? null,
          capture_bytes: median_of(pick(cell, "capture_bytes")) ?? null,
          errors: cell?.errors ?? [],
        }];
      })),
    }])),
    geomean: Object.fromEntries(wall.geomeans),
    cpu_geomean: Object.fromEntries(cpu.geomeans),
    net_geomean: net === undefined ? null : Object.fromEntries(net.geomeans),
    startup_over_python_s: Object.fromEntries(startup),
    probes: Object.fromEntries(input.probes.map((probe) => [probe.name, {
      description: probe.description,
      median_s: median_of(pick(input.probe_cells.get(probe.name), "seconds")) ?? null,
      samples: input.probe_cells.get(probe.name)?.samples ?? [],
    }])),
    unavailable: Object.fromEntries(input.unavailable),
  };
  return { text, json };
}
