/**
 * A streaming pass over the events of a memray 1.20 ALL_ALLOCATIONS capture, for when the report
 * library cannot fold it natively (lib/memray_format/fold.ts): {@link decodeStream} hands its
 * events to reused typed-array batches instead of keeping them, so `stats` and the peak snapshot
 * fold them as they fold a scan of ours (lib/capture/event_scan.ts). Memory: the capture's bytes
 * plus the stacks, codes and one batch.
 */
import type { CaptureInfo, EventBatch } from "../capture/event_scan.ts";
import { CaptureError } from "../capture/errors.ts";
import { FILE_FORMAT_AGGREGATED, parseMemrayHeader } from "./header.ts";
import { MemrayParts } from "./parts.ts";
import { dataEnd, memrayCaptureInfo } from "./reader.ts";
import { decodeStream, EventSink } from "./stream.ts";

/** Events per batch: the batch stays in cache. */
const BATCH_EVENTS = 4096;

/** Collects events into a batch and hands each full one on. */
class Batcher implements EventSink {
  count = 0;
  delivered = 0;
  readonly kind = new Uint8Array(BATCH_EVENTS);
  readonly addr = new Float64Array(BATCH_EVENTS);
  readonly size = new Float64Array(BATCH_EVENTS);
  readonly thread = new Uint32Array(BATCH_EVENTS);
  readonly py_stack = new Uint32Array(BATCH_EVENTS);
  readonly native_stack = new Uint32Array(BATCH_EVENTS);

  constructor(readonly onBatch: (batch: EventBatch) => void) {}

  push(
    _seq: number,
    kind: number,
    addr: number,
    size: number,
    thread: number,
    py_stack: number,
    native_stack: number,
  ): void {
    const i = this.count++;
    this.kind[i] = kind;
    this.addr[i] = addr;
    this.size[i] = size;
    this.thread[i] = thread;
    this.py_stack[i] = py_stack;
    this.native_stack[i] = native_stack;
    if (this.count === BATCH_EVENTS) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    const first_index = this.delivered;
    this.delivered += this.count;
    const count = this.count;
    this.count = 0;
    this.onBatch({
      count,
      first_index,
      kind: this.kind,
      addr: this.addr,
      size: this.size,
      thread: this.thread,
      py_stack: this.py_stack,
      native_stack: this.native_stack,
    });
  }
}

/**
 * Streams the events of the memray capture `bytes` (decompressed; `compressed` says whether they
 * were) to `onBatch` in seq order; returns the capture without its events. Throws
 * {@link CaptureError} for what the full reader rejects, and for an aggregated capture.
 */
export function scanMemrayEvents(
  bytes: Uint8Array,
  path: string,
  compressed: boolean,
  onBatch: (batch: EventBatch) => void,
): CaptureInfo {
  const h = parseMemrayHeader(bytes, path);
  if (h.file_format === FILE_FORMAT_AGGREGATED) {
    throw new CaptureError(path, "aggregated capture holds no events");
  }
  // memray trims the zero padding only of uncompressed files; a compressed one is complete.
  const end = compressed ? bytes.length : dataEnd(bytes);
  const parts = new MemrayParts(0);
  const batcher = new Batcher(onBatch);
  decodeStream(bytes, h.size_bytes, end, h.native_traces, parts, path, batcher);
  batcher.flush();
  return memrayCaptureInfo(h, parts, path, compressed);
}

/** Whether the memray capture `bytes` is aggregated. Throws {@link CaptureError} for a bad header. */
export function isAggregatedMemray(bytes: Uint8Array, path: string): boolean {
  return parseMemrayHeader(bytes, path).file_format === FILE_FORMAT_AGGREGATED;
}
