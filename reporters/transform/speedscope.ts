/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json, reference §2.8):
 * shared frames, and two "sampled" profiles over the same stacks, bytes and allocation counts.
 */
import type { Capture } from "../../lib/capture/reader.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import { pythonJsonDumps } from "./python_json.ts";
import { recordStack } from "./stacks.ts";
import { type StackFrames, StackResolver } from "../../lib/analysis/stack_resolver.ts";

/** The file's suffix (memray's `SUFFIX_MAP`). */
export const SPEEDSCOPE_SUFFIX = ".speedscope.json";

/** The `$schema` value speedscope files declare. */
export const SPEEDSCOPE_SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json";

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

/** Options of {@link renderSpeedscope}. */
export interface SpeedscopeOptions {
  /** The `exporter` field, "<tool>@<version>". */
  exporter: string;
  /** The report's resolver (default: the capture's Python stacks). */
  stacks?: StackFrames;
}

function profile(name: string, unit: string, stacks: number[][], weights: number[]) {
  const samples: number[][] = [];
  const kept: number[] = [];
  weights.forEach((w, i) => {
    if (w <= 0) return;
    samples.push(stacks[i]);
    kept.push(w);
  });
  const end = kept.reduce((a, b) => a + b, 0);
  return { type: "sampled", name, unit, startValue: 0, endValue: end, samples, weights: kept };
}

/**
 * Renders records as memray's `render_as_speedscope`: stacks root first, frames keyed by
 * (function, file, line), identical stacks summed, records without frames left out; the
 * profile's name is the capture's command line.
 */
export function renderSpeedscope(
  capture: Capture,
  records: readonly LocationRecord[],
  options: SpeedscopeOptions,
): string {
  const resolver = options.stacks ?? StackResolver.python(capture);
  const frame_index = new Map<string, number>();
  const frames: SpeedscopeFrame[] = [];
  const sample_index = new Map<string, number>();
  const stacks: number[][] = [];
  const sizes: number[] = [];
  const counts: number[] = [];
  for (const record of records) {
    const sample: number[] = [];
    for (const f of recordStack(resolver, record).reverse()) {
      const key = `${f.function}\0${f.filename}\0${f.lineno}`;
      let index = frame_index.get(key);
      if (index === undefined) {
        index = frames.length;
        const frame: SpeedscopeFrame = { name: f.function };
        if (f.filename) frame.file = f.filename;
        if (f.lineno > 0) frame.line = f.lineno;
        frames.push(frame);
        frame_index.set(key, index);
      }
      sample.push(index);
    }
    if (sample.length === 0) continue;
    const key = sample.join(",");
    let s = sample_index.get(key);
    if (s === undefined) {
      s = stacks.length;
      sample_index.set(key, s);
      stacks.push(sample);
      sizes.push(0);
      counts.push(0);
    }
    sizes[s] += record.size_bytes;
    counts[s] += record.count;
  }
  const command_line = capture.header.metadata.command_line;
  return pythonJsonDumps({
    $schema: SPEEDSCOPE_SCHEMA_URL,
    shared: { frames },
    profiles: [
      profile("Memory", "bytes", stacks, sizes),
      profile("Allocations", "none", stacks, counts),
    ],
    name: typeof command_line === "string" ? command_line : "memray",
    activeProfileIndex: 0,
    exporter: options.exporter,
  });
}
