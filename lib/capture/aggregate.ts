/**
 * `memray run --aggregate`: turns a finished (or crash-cut) full capture into an aggregated one in
 * place. Per location (thread, allocator, Python stack, native stack) it keeps what was live at the
 * high-water mark and at the end, found by the same analysis the reports use (lib/analysis).
 */
import { LiveTable } from "../analysis/live_table.ts";
import { highWaterMark } from "../analysis/replay.ts";
import { encodeAggregated } from "./aggregated_writer.ts";
import { CaptureError } from "./errors.ts";
import { Capture, decompressIfNeeded, readCaptureBytes } from "./reader.ts";
import { AggregatedLocation, CodeObject, HeapSample } from "./records.ts";

/** Per-location contributions and heap samples of a full capture. */
export interface Aggregation {
  /**
   * Locations with a nonzero contribution: first those live at the peak, in order of their first
   * allocation live at the peak, then leak-only ones in order of their first leaked allocation
   * (so regrouping them in file order gives the same order as grouping the full capture's peak).
   */
  locations: AggregatedLocation[];
  /** One per RSS sample, with the heap after every event that came before the sample. */
  heap_samples: HeapSample[];
  /** The CODE records the locations' Python frames use (those the capture defines). */
  codes: CodeObject[];
  peak_bytes: number;
  final_bytes: number;
}

interface Slot {
  location: AggregatedLocation;
}

/** Computes the {@link Aggregation} of a full capture. */
export function aggregateEvents(capture: Capture): Aggregation {
  if (capture.header.aggregated) throw new Error("the capture is already aggregated");
  const ev = capture.events;
  const hwm = highWaterMark(ev);
  const rss = capture.rss;
  const heap_samples: HeapSample[] = [];
  const table = new LiveTable();
  // Nothing is live before the first event (the peak of an empty capture).
  let at_peak = table.live();
  let r = 0;
  for (let i = 0; i < ev.count; i++) {
    for (; r < rss.length && rss[r].seq < ev.seq[i]; r++) {
      heap_samples.push({ ...sample(rss[r]), heap_bytes: table.heap_bytes });
    }
    table.applyEvent(ev, i);
    if (i === hwm.peak_index) at_peak = table.live();
  }
  for (; r < rss.length; r++) {
    heap_samples.push({ ...sample(rss[r]), heap_bytes: table.heap_bytes });
  }
  const at_end = table.live();
  if (table.heap_bytes !== hwm.final_bytes) throw new Error("replays of one capture disagree");

  const slots = new LocationSlots(capture);
  for (let k = 0; k < at_peak.count; k++) {
    const l = slots.slot(at_peak.index[k]).location;
    l.peak_count += 1;
    l.peak_bytes += at_peak.bytes[k];
  }
  for (let k = 0; k < at_end.count; k++) {
    const l = slots.slot(at_end.index[k]).location;
    l.leaked_count += 1;
    l.leaked_bytes += at_end.bytes[k];
  }
  const codes: CodeObject[] = [];
  for (const id of [...slots.code_ids].sort((a, b) => a - b)) {
    const code = capture.codes.get(id);
    if (code !== undefined) codes.push(code);
  }
  return {
    locations: slots.list.map((s) => s.location),
    heap_samples,
    codes,
    peak_bytes: hwm.peak_bytes,
    final_bytes: hwm.final_bytes,
  };
}

function sample(s: { time_offset_ms: number; rss_bytes: number }) {
  return { time_offset_ms: s.time_offset_ms, rss_bytes: s.rss_bytes };
}

/** Interns locations (thread, allocator, Python stack node, native stack node) to slots. */
class LocationSlots {
  readonly list: Slot[] = [];
  readonly code_ids = new Set<number>();
  /** (thread, allocator) -> (py node, native node) -> slot. */
  #by_owner = new Map<number, Map<number, Slot>>();
  #big = new Map<string, Slot>();

  constructor(readonly capture: Capture) {}

  slot(i: number): Slot {
    const ev = this.capture.events;
    const owner = ev.thread[i] * 256 + ev.kind[i];
    const py = ev.py_stack[i];
    const native = ev.native_stack[i];
    // Node ids stay far below 2^26 in practice; larger ones take a slower string key.
    const small = py < 2 ** 26 && native < 2 ** 26;
    let inner = this.#by_owner.get(owner);
    if (inner === undefined) {
      inner = new Map();
      this.#by_owner.set(owner, inner);
    }
    const key = py * 2 ** 26 + native;
    const big_key = small ? "" : `${owner}:${py}:${native}`;
    const found = small ? inner.get(key) : this.#big.get(big_key);
    if (found !== undefined) return found;
    const s: Slot = { location: this.#location(i) };
    if (small) inner.set(key, s);
    else this.#big.set(big_key, s);
    this.list.push(s);
    return s;
  }

  #location(i: number): AggregatedLocation {
    const ev = this.capture.events;
    const py = this.capture.python;
    const python_frames: number[] = [];
    const py_ids = py.tree.frames(ev.py_stack[i]);
    for (let k = py_ids.length - 1; k >= 0; k--) {
      const f = py_ids[k];
      const code_id = py.frame_table.code_id[f];
      this.code_ids.add(code_id);
      python_frames.push(code_id, py.frame_table.is_entry[f], py.frame_table.instr_offset[f]);
    }
    const native = this.capture.native;
    const native_ids = native.tree.frames(ev.native_stack[i]);
    const native_ips = native_ids.reverse().map((f) => native.frames.ip[f]);
    return {
      thread_id: ev.thread[i],
      allocator: ev.kind[i],
      python_frames,
      native_ips,
      peak_count: 0,
      peak_bytes: 0,
      leaked_count: 0,
      leaked_bytes: 0,
    };
  }
}

/**
 * Rewrites the capture at `path` (LZ4 or raw) as an aggregated capture: writes `<path>.agg.tmp`
 * and renames it over `path`. On failure the full capture is kept and a {@link CaptureError} with
 * a one-line message is thrown. An aggregated capture is left as it is.
 */
export async function aggregateCapture(path: string): Promise<void> {
  const tmp = `${path}.agg.tmp`;
  try {
    const { bytes } = decompressIfNeeded(await Deno.readFile(path), path);
    const capture = readCaptureBytes(bytes, path);
    if (capture.header.aggregated) return;
    const aggregation = aggregateEvents(capture);
    const file = encodeAggregated(bytes.subarray(0, capture.header.header_size_bytes), {
      heap_samples: aggregation.heap_samples,
      threads: capture.threads.values(),
      module_maps: capture.module_maps,
      codes: aggregation.codes,
      locations: aggregation.locations,
    });
    await Deno.writeFile(tmp, file);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    if (e instanceof CaptureError) throw e;
    const what = (e as Error).message.split("\n")[0];
    throw new CaptureError(path, `aggregating failed: ${what}`);
  }
}
