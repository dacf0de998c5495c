/**
 * Test helper: a capture made of fake events (no file), for the analysis tests. Only the parts
 * analysis reads are filled: header flags and start time, events, RSS samples.
 */
import { EventBuilder } from "../capture/events.ts";
import type { Capture } from "../capture/reader.ts";

/** Start time of every fake capture (ms since the epoch). */
export const FAKE_START_MS = 1_700_000_000_000;

/** `"S"`: an RSS sample (snapshot boundary); else [kind, thread, Python stack, address, size]. */
export type FakeOp = "S" | [number, number, number, number, number];

/** A capture holding `ops` in order (seq 1, 2, ...); RSS sample k is at k*10 ms, rss 1000+k. */
export function fakeCapture(ops: FakeOp[], options: { aggregated?: boolean } = {}): Capture {
  const events = new EventBuilder(4);
  const rss: { seq: number; time_offset_ms: number; rss_bytes: number }[] = [];
  let seq = 0;
  for (const op of ops) {
    seq++;
    if (op === "S") {
      rss.push({ seq, time_offset_ms: 10 * rss.length, rss_bytes: 1000 + rss.length });
    } else {
      events.push(seq, op[0], op[3], op[4], op[1], op[2], 0);
    }
  }
  const header = { aggregated: options.aggregated ?? false, start_time_ms: FAKE_START_MS };
  return {
    header,
    events: events.finishInSeqOrder(),
    rss,
    heap_samples: [],
    locations: [],
  } as unknown as Capture;
}
