import assert from "node:assert/strict";
import { build_report, type Cell } from "./report.ts";

function cell(
  seconds: (number | undefined)[],
  capture_bytes?: number,
  errors: string[] = [],
): Cell {
  return {
    samples: seconds.map((value) =>
      value === undefined ? undefined : { seconds: value, cpu_seconds: value / 2, capture_bytes }
    ),
    errors,
  };
}

const variants = [
  { name: "python", tool: "python" as const },
  { name: "ours:default", tool: "ours" as const },
  { name: "memray:default", tool: "memray" as const },
];

function input(cells: Record<string, Record<string, Cell>>) {
  return {
    workloads: Object.keys(cells).map((name) => ({ name })),
    variants,
    cells: new Map(
      Object.entries(cells).map(([name, row]) => [name, new Map(Object.entries(row))]),
    ),
    probes: [{ name: "python -c pass", description: "python start alone" }],
    probe_cells: new Map([["python -c pass", cell([0.05, 0.06, 0.07])]]),
    unavailable: new Map<string, string>(),
    repeat: 3,
  };
}

Deno.test("ratios are paired per repeat and the geomean skips empty and micro_alloc", () => {
  const { json, text } = build_report(input({
    // A busy second repeat doubles every variant; the paired ratio ignores it.
    a: {
      python: cell([1, 2, 1]),
      "ours:default": cell([1.2, 2.4, 1.2], 100),
      "memray:default": cell([2, 4, 2], 400),
    },
    b: {
      python: cell([1, 1, 1]),
      "ours:default": cell([3, 3, 3], 100),
      "memray:default": cell([2, 2, 2], 50),
    },
    empty: {
      python: cell([0.1, 0.1, 0.1]),
      "ours:default": cell([0.2, 0.3, 0.2], 10),
      "memray:default": cell([9, 9, 9], 10),
    },
    micro_alloc: {
      python: cell([1, 1, 1]),
      "ours:default": cell([50, 50, 50]),
      "memray:default": cell([1, 1, 1]),
    },
  })) as { json: Record<string, Record<string, number>>; text: string };
  assert.ok(Math.abs(json.geomean["ours:default"] - Math.sqrt(1.2 * 3)) < 1e-9);
  assert.ok(Math.abs(json.geomean["memray:default"] - 2) < 1e-9);
  assert.ok(Math.abs(json.startup_over_python_s["ours:default"] - 0.1) < 1e-9);
  // Without start-up, workload b: per repeat (3 - 0.2|0.3|0.2) / (1 - 0.1) -> median 2.8 / 0.9.
  const b = (json.workloads as unknown as Record<
    string,
    { variants: Record<string, { net_ratio: number }> }
  >).b;
  assert.ok(Math.abs(b.variants["ours:default"].net_ratio - 2.8 / 0.9) < 1e-9);
  assert.match(text, /\| empty \*/);
  assert.match(text, /\| micro_alloc \*/);
  // Capture sizes: ours/memray per mode.
  assert.match(text, /\| a +\| +100 B \| +400 B \| +0\.25 \|/);
  assert.match(text, /\| b +\| +100 B \| +50 B \| +2\.00 \|/);
});

Deno.test("a failed workload shows FAIL and leaves that variant without a geomean", () => {
  const { json, text } = build_report(input({
    a: {
      python: cell([1, 1, 1]),
      "ours:default": cell(
        [undefined, undefined, undefined],
        undefined,
        Array(3).fill("exit 1: boom"),
      ),
      "memray:default": cell([2, 2, 2]),
    },
  })) as { json: Record<string, Record<string, number | null>>; text: string };
  assert.equal(json.geomean["ours:default"], undefined);
  assert.equal(json.geomean["memray:default"], 2);
  assert.match(text, /FAIL/);
  assert.match(text, /- a ours:default: 3 failed, e.g. exit 1: boom/);
});
