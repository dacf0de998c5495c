/**
 * Test captures described by stacks: each step allocates (or frees) on a thread with a Python
 * stack given root first as [function, file, line] triples. Code ids are assigned per frame, so
 * two captures built from the same description still share no ids when `code_id_base` differs:
 * what a diff must cope with.
 */
import { CaptureEncoder, ThreadEncoder } from "../../tests/support/capture_encoder.ts";
import { locationTable } from "../../tests/support/fake_capture.ts";

/** A frame as [function, file, line]. */
export type StackFrame = [string, string, number];

/** One step of a described capture. */
export type Step =
  | { alloc: number; size: number; stack: StackFrame[]; thread?: number }
  | { free: number; thread?: number };

/** Options of {@link stackCapture}. */
export interface StackCaptureOptions {
  command_line?: string;
  /** First code id (default 1). */
  code_id_base?: number;
  sys_path?: string[];
  bootstrap_file?: string;
}

/** Encodes the steps as a finished live-layout capture (Python 3.11 line tables). */
export function stackCapture(steps: Step[], options: StackCaptureOptions = {}): Uint8Array {
  const enc = new CaptureEncoder({
    python_hexversion: 0x030b07f0,
    start_time_ms: 1_700_000_000_000,
    end_time_ms: 1_700_000_001_000,
    metadata: {
      command_line: options.command_line ?? "app.py",
      python_version: "3.11.7",
      main_thread_id: 1,
      bootstrap_file: options.bootstrap_file ?? "/opt/memray_deno/bootstrap.py",
      sys_path: options.sys_path ?? ["/work/app", "/usr/lib/python3.11"],
    },
  });
  const codes = new Map<string, number>();
  let next_code = options.code_id_base ?? 1;
  const depth = new Map<number, number>();
  const threads = new Map<number, ThreadEncoder>();
  const thread = (id: number) => {
    let t = threads.get(id);
    if (t === undefined) {
      t = enc.thread(id);
      t.threadInfo(1000 + id, 0);
      threads.set(id, t);
      depth.set(id, 0);
    }
    return t;
  };
  for (const step of steps) {
    const id = step.thread ?? 1;
    const t = thread(id);
    if ("free" in step) {
      t.free(step.free);
      continue;
    }
    const frames = step.stack.map(([fn, file, line]) => {
      const key = `${fn}\0${file}\0${line}`;
      let code_id = codes.get(key);
      if (code_id === undefined) {
        code_id = next_code++;
        codes.set(key, code_id);
        t.code({
          code_id,
          first_line: line,
          name: fn,
          filename: file,
          linetable: locationTable([0]),
        });
      }
      return { code_id, instr_offset_bytes: 0, is_entry: true };
    });
    // Replace the whole stack: simple, and what the engine writes after a full unwind.
    t.pyStack(depth.get(id)!, frames);
    depth.set(id, frames.length);
    t.alloc(0x01, step.alloc, step.size);
  }
  return enc.finish();
}
