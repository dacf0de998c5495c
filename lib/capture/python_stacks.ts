/**
 * Resolves interned Python stacks to (function, filename, line) frames, with line numbers from
 * the code objects' line tables, and hides the launcher's root frames on the main thread.
 */
import {
  decodeLineTable,
  lineForOffset,
  LineRanges,
  LineTableKind,
  lineTableKind,
} from "./line_table.ts";
import type { CaptureHeader } from "./header.ts";
import { CodeObject } from "./records.ts";
import { PythonFrameTable, StackTree } from "./stack_tree.ts";

/** One resolved Python frame. */
export interface PythonFrame {
  function: string;
  filename: string;
  lineno: number;
}

/** Inputs of {@link PythonStacks}. */
export interface PythonStacksInit {
  tree: StackTree;
  frames: PythonFrameTable;
  codes: Map<number, CodeObject>;
  python_hexversion: number;
  python_version?: string;
  bootstrap_file?: string;
}

const UNKNOWN_FRAME: PythonFrame = { function: "<unknown>", filename: "<unknown>", lineno: 0 };

function hexFromVersion(version: string | undefined): number {
  const m = /^(\d+)\.(\d+)/.exec(version ?? "");
  return m ? (Number(m[1]) << 24) | (Number(m[2]) << 16) : 0;
}

/** Python stacks of a capture. Frame ids and node ids come from the reader. */
export class PythonStacks {
  readonly tree: StackTree;
  readonly frame_table: PythonFrameTable;
  readonly codes: Map<number, CodeObject>;
  readonly kind: LineTableKind;
  readonly bootstrap_file: string | undefined;
  #resolved: (PythonFrame | undefined)[] = [];
  #ranges = new Map<number, LineRanges>();
  #hidden_prefix = new Map<number, number>();

  constructor(init: PythonStacksInit) {
    this.tree = init.tree;
    this.frame_table = init.frames;
    this.codes = init.codes;
    this.kind = lineTableKind(init.python_hexversion || hexFromVersion(init.python_version));
    this.bootstrap_file = init.bootstrap_file;
  }

  /** Resolves one frame id (cached). Unknown code ids resolve to `<unknown>`. */
  frame(frame_id: number): PythonFrame {
    const cached = this.#resolved[frame_id];
    if (cached !== undefined) return cached;
    const code = this.codes.get(this.frame_table.code_id[frame_id]);
    let frame = UNKNOWN_FRAME;
    if (code !== undefined) {
      let ranges = this.#ranges.get(code.code_id);
      if (ranges === undefined) {
        ranges = decodeLineTable(this.kind, code.linetable, code.first_line);
        this.#ranges.set(code.code_id, ranges);
      }
      frame = {
        function: code.name,
        filename: code.filename,
        lineno: lineForOffset(ranges, this.frame_table.instr_offset[frame_id]),
      };
    }
    this.#resolved[frame_id] = frame;
    return frame;
  }

  /** True for frames of the launcher: the bootstrap file and runpy. */
  isLauncherFrame(frame_id: number): boolean {
    const file = this.frame(frame_id).filename;
    if (this.bootstrap_file !== undefined && file === this.bootstrap_file) return true;
    return file.endsWith("/runpy.py") || file === "<frozen runpy>";
  }

  /**
   * Frame ids of stack `node`, leaf first. With `hide_launcher` (the main thread), the outermost
   * frames that belong to the launcher are dropped.
   */
  frameIds(node: number, hide_launcher: boolean): number[] {
    const ids = this.tree.frames(node);
    if (!hide_launcher) return ids;
    const hidden = this.#hiddenCount(node);
    return hidden === 0 ? ids : ids.slice(0, ids.length - hidden);
  }

  /** Resolved frames of `node`, leaf first. */
  frames(node: number, hide_launcher: boolean): PythonFrame[] {
    return this.frameIds(node, hide_launcher).map((f) => this.frame(f));
  }

  /** How many root frames of `node` are launcher frames (cached along the path). */
  #hiddenCount(node: number): number {
    if (node === 0) return 0;
    const cached = this.#hidden_prefix.get(node);
    if (cached !== undefined) return cached;
    const parent = this.tree.parent[node];
    const parent_hidden = this.#hiddenCount(parent);
    const all_hidden = parent_hidden === this.tree.depth[parent];
    const hidden = all_hidden && this.isLauncherFrame(this.tree.frame[node])
      ? parent_hidden + 1
      : parent_hidden;
    this.#hidden_prefix.set(node, hidden);
    return hidden;
  }
}

/** The Python stacks of one of our captures, with what its header says about the interpreter. */
export function pythonStacksOf(
  header: CaptureHeader,
  parts: { tree: StackTree; frames: PythonFrameTable; codes: Map<number, CodeObject> },
): PythonStacks {
  return new PythonStacks({
    ...parts,
    python_hexversion: header.python_hexversion,
    python_version: header.metadata.python_version,
    bootstrap_file: header.metadata.bootstrap_file,
  });
}
