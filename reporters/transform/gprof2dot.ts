/** gprof2dot's JSON format (reference §2.8): functions keyed by (function, file), one event per record. */
import type { Capture } from "../../lib/capture/reader.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import { pythonJsonDumps } from "./python_json.ts";
import { recordStack } from "./stacks.ts";
import { type StackFrames, StackResolver } from "../../lib/analysis/stack_resolver.ts";

/** The file's suffix (memray's `SUFFIX_MAP`). */
export const GPROF2DOT_SUFFIX = ".json";

/**
 * Renders records as memray's `render_as_gprof2dot`: call chains leaf first, cost = bytes;
 * records with no frames are left out. `stacks`: the report's resolver (default: the capture's
 * Python stacks).
 */
export function renderGprof2dot(
  capture: Capture,
  records: readonly LocationRecord[],
  stacks: StackFrames = StackResolver.python(capture),
): string {
  const index_of = new Map<string, number>();
  const functions: { name: string; module: string }[] = [];
  const events: { callchain: number[]; cost: number[] }[] = [];
  for (const record of records) {
    const callchain: number[] = [];
    for (const frame of recordStack(stacks, record)) {
      const key = `${frame.function}\0${frame.filename}`;
      let index = index_of.get(key);
      if (index === undefined) {
        index = functions.length;
        functions.push({ name: frame.function, module: frame.filename });
        index_of.set(key, index);
      }
      callchain.push(index);
    }
    if (callchain.length === 0) continue;
    events.push({ callchain, cost: [record.size_bytes] });
  }
  return pythonJsonDumps({
    version: 0,
    costs: [{ description: "Memory", unit: "bytes" }],
    events,
    functions,
  });
}
