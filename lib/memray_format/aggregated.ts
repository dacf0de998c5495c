/**
 * Decodes a memray AGGREGATED_ALLOCATIONS file (reference §3.5): everything is written at tracker
 * exit as tables (Python frames, the Python and native frame trees) and one raw
 * `AggregatedAllocation` struct per location, which become our {@link CaptureLocation}s.
 */
import { Cursor } from "../capture/cursor.ts";
import { ModuleMap } from "../capture/records.ts";
import { KIND_OF_MEMRAY_ALLOCATOR } from "./allocators.ts";
import { MemrayParts } from "./parts.ts";
import { decodeCodeObject, decodeSegmentHeader, failIn, readCString } from "./shared_records.ts";

const MEMORY_SNAPSHOT = 1;
const AGGREGATED_ALLOCATION = 2;
const PYTHON_TRACE_INDEX = 3;
const PYTHON_FRAME_INDEX = 4;
const NATIVE_TRACE_INDEX = 5;
const MEMORY_MAP_START = 6;
const SEGMENT_HEADER = 7;
const THREAD_RECORD = 10;
const CONTEXT_SWITCH = 12;
const SURVIVING_OBJECT = 13;
const CODE_OBJECT = 14;
const AGGREGATED_TRAILER = 15;

/**
 * `AggregatedAllocation` on x86-64/aarch64: u64 tid, u8 allocator (+7 padding), u64
 * native_frame_id, u32 frame_index (+4 padding), u64 native_segment_generation, then four u64
 * counters (HWM count, leaked count, HWM bytes, leaked bytes).
 */
export const AGGREGATED_ALLOCATION_BYTES = 72;
/** `MemorySnapshot`: u64 ms since epoch, u64 rss, u64 heap. */
const MEMORY_SNAPSHOT_BYTES = 24;

/** Decodes `bytes[start..end)` of an aggregated file into `parts`. */
export function decodeAggregated(
  bytes: Uint8Array,
  start: number,
  end: number,
  native_traces: boolean,
  start_time_ms: number,
  parts: MemrayParts,
  path: string,
): void {
  const fail = failIn(path);
  const c = new Cursor(bytes, start, end);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64At = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  let tid = 0;
  let last_ip = 0;
  let last_native_frame_id = 0;
  let last_firstlineno = 0;
  let modules: ModuleMap[] | undefined;
  /** memray Python frame id -> our frame id. */
  const frame_ids: number[] = [];
  /** memray Python tree node -> our tree node. */
  const py_nodes: number[] = [0];
  let finished = false;
  const record_bound = end - start + 1;
  for (let n = 0; n < record_bound && c.pos < end && !finished; n++) {
    const at = c.pos;
    const token = bytes[c.pos++];
    switch (token) {
      case MEMORY_SNAPSHOT: {
        if (c.pos + MEMORY_SNAPSHOT_BYTES > end) {
          c.pos = end + 1;
          break;
        }
        const time_offset_ms = u64At(c.pos) - start_time_ms;
        const rss_bytes = u64At(c.pos + 8);
        const heap_bytes = u64At(c.pos + 16);
        c.pos += MEMORY_SNAPSHOT_BYTES;
        parts.heap_samples.push({ time_offset_ms, rss_bytes, heap_bytes });
        parts.rss.push({ seq: 0, time_offset_ms, rss_bytes });
        break;
      }
      case AGGREGATED_ALLOCATION: {
        if (c.pos + AGGREGATED_ALLOCATION_BYTES > end) {
          c.pos = end + 1;
          break;
        }
        const p = c.pos;
        c.pos += AGGREGATED_ALLOCATION_BYTES;
        const thread_id = u64At(p);
        const kind = KIND_OF_MEMRAY_ALLOCATOR[bytes[p + 8]];
        const native_id = u64At(p + 16);
        const frame_index = view.getUint32(p + 24, true);
        if (kind === 0) fail(`unknown memray allocator ${bytes[p + 8]}`, at);
        if (frame_index >= py_nodes.length) fail(`Python stack ${frame_index} is not defined`, at);
        if (native_id >= parts.native_node_count) {
          fail(`native stack ${native_id} is not defined`, at);
        }
        parts.thread(thread_id);
        const py_stack = py_nodes[frame_index];
        const native_stack = parts.native_nodes[native_id];
        const python_frames: number[] = [];
        const leaf_first = parts.py_tree.frames(py_stack);
        for (let i = leaf_first.length - 1; i >= 0; i--) {
          const f = leaf_first[i];
          python_frames.push(
            parts.py_frames.code_id[f],
            parts.py_frames.is_entry[f],
            parts.py_frames.instr_offset[f],
          );
        }
        const native_ips = parts.native_tree.frames(native_stack).reverse().map((f) =>
          parts.native_frames.ip[f]
        );
        parts.locations.push({
          thread_id,
          allocator: kind,
          python_frames,
          native_ips,
          peak_count: u64At(p + 40),
          leaked_count: u64At(p + 48),
          peak_bytes: u64At(p + 56),
          leaked_bytes: u64At(p + 64),
          py_stack,
          native_stack,
        });
        break;
      }
      case PYTHON_TRACE_INDEX: {
        const frame_id = c.varint();
        const parent = c.varint();
        if (c.pos > end) break;
        if (frame_id >= frame_ids.length) fail(`Python frame ${frame_id} is not defined`, at);
        if (parent >= py_nodes.length) fail(`Python stack ${parent} is not defined`, at);
        py_nodes.push(parts.py_tree.child(py_nodes[parent], frame_ids[frame_id]));
        break;
      }
      case PYTHON_FRAME_INDEX: {
        const frame_id = c.varint();
        const code_id = c.varint();
        const offset = c.svarint();
        const is_entry = c.u8() !== 0 ? 1 : 0;
        if (c.pos > end) break;
        // memray checks the ids come dense and in order ("Frame ID mismatch").
        if (frame_id !== frame_ids.length) fail(`Python frame id ${frame_id} is out of order`, at);
        frame_ids.push(parts.py_frames.intern(code_id, is_entry, offset));
        break;
      }
      case NATIVE_TRACE_INDEX: {
        const ip = last_ip + c.svarint();
        const parent = last_native_frame_id + c.svarint();
        if (c.pos > end) break;
        last_ip = ip;
        last_native_frame_id = parent;
        if (!parts.addNativeNode(ip, parent)) {
          fail(`native frame's parent ${parent} is not defined`, at);
        }
        break;
      }
      case MEMORY_MAP_START:
        modules = [];
        parts.module_maps.push({
          seq: ++parts.seq,
          generation: parts.module_maps.length + 1,
          modules,
        });
        break;
      case SEGMENT_HEADER:
        decodeSegmentHeader(c, modules, at, fail);
        break;
      case THREAD_RECORD: {
        const name = readCString(c);
        if (c.pos > end) break;
        parts.thread(tid).name = name;
        break;
      }
      case CONTEXT_SWITCH:
        tid = c.u64();
        break;
      case SURVIVING_OBJECT:
        c.varint();
        if (native_traces) c.varint();
        break;
      case CODE_OBJECT:
        last_firstlineno = decodeCodeObject(c, last_firstlineno, parts);
        break;
      case AGGREGATED_TRAILER:
        finished = true;
        break;
      default:
        fail(`unknown memray aggregated record type 0x${token.toString(16).padStart(2, "0")}`, at);
    }
    if (c.pos > end) break;
  }
  // memray writes an aggregated file in one go at exit; one without its trailer is damaged.
  parts.cut_off = !finished;
}
