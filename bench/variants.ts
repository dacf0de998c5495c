/**
 * The programs the benchmark compares: python alone, our CLI in its three modes and memray 1.20 in
 * the same three modes. Each variant turns (script, output path) into an argv.
 * @module
 */

/** A profiling mode shared by both profilers. */
export type Mode = "none" | "default" | "native" | "pyalloc";

/** Which program a variant runs. */
export type Tool = "python" | "ours" | "memray";

/** One way of running a workload. */
export interface Variant {
  /** Column name, e.g. `ours:native`. */
  name: string;
  tool: Tool;
  mode: Mode;
  /** The argv that runs `script_path`, writing its capture (if any) to `output_path`. */
  argv(script_path: string, output_path: string): string[];
}

/** Paths the variants are built from. */
export interface VariantPaths {
  /** The real interpreter run alone (same version memray's venv was built from). */
  python: string;
  /** The Deno binary that runs our CLI. */
  deno: string;
  /** Our CLI entry point (main.ts). */
  main_ts: string;
  /** The python of the memray 1.20 venv, or undefined when it is not installed. */
  memray_python?: string;
}

const MODE_FLAGS: Record<Exclude<Mode, "none">, string[]> = {
  default: [],
  native: ["--native"],
  pyalloc: ["--trace-python-allocators"],
};

/** All variants, python first; memray's only when its venv exists. */
export function make_variants(paths: VariantPaths): Variant[] {
  const variants: Variant[] = [
    { name: "python", tool: "python", mode: "none", argv: (script) => [paths.python, script] },
  ];
  for (const [mode, flags] of Object.entries(MODE_FLAGS) as [Exclude<Mode, "none">, string[]][]) {
    variants.push({
      name: `ours:${mode}`,
      tool: "ours",
      mode,
      argv: (script, output) => [
        paths.deno,
        "run",
        "-A",
        paths.main_ts,
        "run",
        ...flags,
        "-o",
        output,
        script,
      ],
    });
  }
  if (paths.memray_python !== undefined) {
    const memray_python = paths.memray_python;
    for (const [mode, flags] of Object.entries(MODE_FLAGS) as [Exclude<Mode, "none">, string[]][]) {
      variants.push({
        name: `memray:${mode}`,
        tool: "memray",
        mode,
        argv: (script, output) => [
          memray_python,
          "-m",
          "memray",
          "run",
          "-q",
          "-f",
          ...flags,
          "-o",
          output,
          script,
        ],
      });
    }
  }
  return variants;
}

/** A command timed only to split start-up cost into its parts (no workload). */
export interface Probe {
  name: string;
  /** What the number means, for the report. */
  description: string;
  argv: string[];
}

/** Start-up probes: bare interpreter, bare Deno, our CLI without python, memray's CLI. */
export function make_probes(paths: VariantPaths): Probe[] {
  const probes: Probe[] = [
    {
      name: "python -c pass",
      description: "python start alone",
      argv: [paths.python, "-c", "pass"],
    },
    { name: "deno eval 0", description: "bare Deno start", argv: [paths.deno, "eval", "0"] },
    {
      name: "main.ts --help",
      description: "Deno start + our CLI's module graph, no python",
      argv: [paths.deno, "run", "-A", paths.main_ts, "--help"],
    },
  ];
  if (paths.memray_python !== undefined) {
    probes.push({
      name: "memray --help",
      description: "python start + memray's CLI imports",
      argv: [paths.memray_python, "-m", "memray", "--help"],
    });
  }
  return probes;
}
