/**
 * What both memray decoders (ALL_ALLOCATIONS and AGGREGATED_ALLOCATIONS) fill: our columns,
 * stack trees and tables, so the result is an ordinary {@link Capture}.
 */
import type {
  CaptureLocation,
  ModuleMapsRecord,
  RssSample,
  ThreadInfo,
} from "../capture/reader.ts";
import { EventBuilder } from "../capture/events.ts";
import { CodeObject, HeapSample } from "../capture/records.ts";
import { NativeFrameTable, PythonFrameTable, StackTree } from "../capture/stack_tree.ts";

/** Accumulated decoder output. */
export class MemrayParts {
  events: EventBuilder;
  py_tree = new StackTree();
  py_frames = new PythonFrameTable();
  native_tree = new StackTree();
  native_frames = new NativeFrameTable();
  /** memray native node id -> our native tree node (memray's node 0 = empty = our 0). */
  native_nodes = new Uint32Array(1024);
  native_node_count = 1;
  codes = new Map<number, CodeObject>();
  threads = new Map<number, ThreadInfo>();
  rss: RssSample[] = [];
  module_maps: ModuleMapsRecord[] = [];
  locations: CaptureLocation[] = [];
  heap_samples: HeapSample[] = [];
  /** True when the stream ended before its trailer (a crash). */
  cut_off = false;
  /** Sequence numbers handed out: events, RSS samples and module maps share one counter. */
  seq = 0;

  /**
   * `expected_events` sizes the columns up front (memray's header counts its records when the
   * run ends cleanly), which saves the copies of repeated doubling.
   */
  constructor(expected_events = 0) {
    const capacity = Math.min(Math.max(expected_events + 1, 1 << 16), 1 << 28);
    this.events = new EventBuilder(capacity);
  }

  /** The thread record for memray thread id `tid`, created on first use. */
  thread(tid: number): ThreadInfo {
    let info = this.threads.get(tid);
    if (info === undefined) {
      info = { thread_id: tid };
      this.threads.set(tid, info);
    }
    return info;
  }

  /**
   * Adds memray's next native node (`ip`, parent node id) and returns false when the parent is not
   * an earlier node (memray creates parents first, so anything else is a corrupt file).
   */
  addNativeNode(ip: number, parent: number): boolean {
    if (!(parent >= 0 && parent < this.native_node_count)) return false;
    if (this.native_node_count === this.native_nodes.length) {
      const grown = new Uint32Array(this.native_nodes.length * 2);
      grown.set(this.native_nodes);
      this.native_nodes = grown;
    }
    const node = this.native_tree.child(this.native_nodes[parent], this.native_frames.intern(ip));
    this.native_nodes[this.native_node_count++] = node;
    return true;
  }

  /** Adds a CODE_OBJECT; a second definition of an id is ignored (memray's map keeps the first). */
  addCode(code: CodeObject): void {
    if (!this.codes.has(code.code_id)) this.codes.set(code.code_id, code);
  }
}
