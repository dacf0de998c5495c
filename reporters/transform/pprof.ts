/**
 * pprof's heap profile (gzipped profile.proto), which memray lacks. Sample types follow Go's heap
 * profiles: `alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes`, with
 * `inuse_space` shown by default.
 * - `inuse_*`: the report's selection: live at the high-water mark, leaked, or temporary.
 * - `alloc_*`: every allocation of the run at that stack. An aggregated capture keeps no
 *   per-allocation records, so there they are 0 and a profile comment says so.
 * Captures with native traces get merged stacks: each native frame (extension, C library) is a
 * function of its own (name, source file) with a location per line, between the Python frames.
 */
import type { Capture } from "../../lib/capture/reader.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import { isAllocation } from "../../lib/capture/records.ts";
import { gzip, ProfileBuilder, ProfileFrame } from "../../lib/pprof/profile.ts";
import { recordStack } from "./stacks.ts";
import { type StackFrames, StackResolver } from "../../lib/analysis/stack_resolver.ts";

/** The file's suffix (Go's convention for gzipped profiles). */
export const PPROF_SUFFIX = ".pb.gz";

/** The heap sample types, in Go's order. */
export const HEAP_SAMPLE_TYPES = [
  { type: "alloc_objects", unit: "count" },
  { type: "alloc_space", unit: "bytes" },
  { type: "inuse_objects", unit: "count" },
  { type: "inuse_space", unit: "bytes" },
];

/** Options of {@link buildPprof}. */
export interface PprofOptions {
  /** What `inuse_*` holds, for the profile's comments: "high_water_mark", "leaks", "temporary". */
  selection: string;
  /** The report's resolver (default: the capture's Python stacks). */
  stacks?: StackFrames;
}

/** Comment of profiles whose `alloc_*` values are unknown. */
export const AGGREGATED_ALLOC_COMMENT =
  "alloc_objects and alloc_space are 0: an aggregated capture keeps no per-allocation records";

function frames(
  stacks: StackFrames,
  py_stack: number,
  native_stack: number,
  thread_id: number,
): ProfileFrame[] {
  return recordStack(stacks, {
    py_stack,
    thread_id,
    native_stack,
    allocator: 0,
    size_bytes: 0,
    count: 0,
  })
    .map((f) => ({ function: f.function, filename: f.filename, line: f.lineno }));
}

interface Total {
  py_stack: number;
  native_stack: number;
  thread_id: number;
  count: number;
  bytes: number;
}

/** Builds the (uncompressed) profile of `records` and the capture's allocations. */
export function buildPprofProfile(
  capture: Capture,
  records: readonly LocationRecord[],
  options: PprofOptions,
): ProfileBuilder {
  const h = capture.header;
  const comments = [];
  if (typeof h.metadata.command_line === "string") comments.push(h.metadata.command_line);
  comments.push(`inuse_objects and inuse_space: ${options.selection}`);
  if (h.aggregated) comments.push(AGGREGATED_ALLOC_COMMENT);
  const builder = new ProfileBuilder({
    sample_types: HEAP_SAMPLE_TYPES,
    default_sample_type: "inuse_space",
    period_type: { type: "space", unit: "bytes" },
    period: 1,
    time_nanos: BigInt(h.start_time_ms) * 1_000_000n,
    duration_nanos: h.end_time_ms > h.start_time_ms
      ? BigInt(h.end_time_ms - h.start_time_ms) * 1_000_000n
      : 0n,
    comments,
  });
  const stacks = options.stacks ?? StackResolver.python(capture);
  // Every allocation of the run, summed per (stacks, hides launcher) before resolving frames.
  const ev = capture.events;
  const totals = new Map<string, Total>();
  for (let i = 0; i < ev.count; i++) {
    if (!isAllocation(ev.kind[i])) continue;
    const main = ev.thread[i] === capture.main_thread_id;
    const key = `${ev.py_stack[i]}:${ev.native_stack[i]}:${main ? 1 : 0}`;
    let t = totals.get(key);
    if (t === undefined) {
      t = {
        py_stack: ev.py_stack[i],
        native_stack: ev.native_stack[i],
        thread_id: ev.thread[i],
        count: 0,
        bytes: 0,
      };
      totals.set(key, t);
    }
    t.count += 1;
    t.bytes += ev.size[i];
  }
  for (const record of records) {
    builder.add(frames(stacks, record.py_stack, record.native_stack, record.thread_id), [
      0,
      0,
      record.count,
      record.size_bytes,
    ]);
  }
  for (const t of totals.values()) {
    const stack = frames(stacks, t.py_stack, t.native_stack, t.thread_id);
    builder.add(stack, [t.count, t.bytes, 0, 0]);
  }
  return builder;
}

/** The gzipped profile, as `go tool pprof` reads it. */
export function buildPprof(
  capture: Capture,
  records: readonly LocationRecord[],
  options: PprofOptions,
): Uint8Array {
  return gzip(buildPprofProfile(capture, records, options).encode());
}
