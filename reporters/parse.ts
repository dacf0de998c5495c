/**
 * `parse`: every record of a capture as one line of text, in file order (as memray's
 * `RecordReader::dumpAllRecords`, for our record types).
 */
import { ChunkInfo, NOOP_VISITOR, RecordVisitor, walkChunks } from "../lib/capture/chunks.ts";
import { CaptureError, UsageError } from "../lib/capture/errors.ts";
import { CaptureHeader, parseHeader, SAMPLER_THREAD_ID } from "../lib/capture/header.ts";
import { decompressIfNeeded } from "../lib/capture/reader.ts";
import {
  AggregatedLocation,
  ALLOCATOR_NAMES,
  CodeObject,
  ModuleMap,
} from "../lib/capture/records.ts";
import { ModuleIndex } from "../lib/capture/module_index.ts";
import type { ModuleMapsRecord } from "../lib/capture/reader.ts";
import { isMemrayCapture } from "../lib/memray_format/header.ts";
import { DumpLine, dumpMemrayCapture } from "../lib/memray_format/dump.ts";
import { BufferedSink, stdoutSink, TextSink } from "./format.ts";

/** Options of {@link runParse}. */
export interface ParseOptions {
  capturePath: string;
  /** Where to write (default: the process stdout). */
  stdout?: TextSink;
  /** Whether stdout is a terminal (default: `Deno.stdout.isTerminal()`); parse refuses one. */
  stdoutIsTerminal?: boolean;
}

/**
 * Dumps every record of the capture. Throws {@link UsageError} when stdout is a terminal and
 * {@link CaptureError} when the capture cannot be read.
 */
export async function runParse(options: ParseOptions): Promise<void> {
  const terminal = options.stdoutIsTerminal ?? Deno.stdout.isTerminal();
  if (terminal) throw new UsageError("You must redirect stdout to a file or shell pipeline.");
  let raw: Uint8Array;
  try {
    raw = await Deno.readFile(options.capturePath);
  } catch (e) {
    throw new CaptureError(options.capturePath, (e as Error).message.split("\n")[0]);
  }
  const out = new BufferedSink(options.stdout ?? stdoutSink);
  try {
    dumpCapture(
      raw,
      options.capturePath,
      (line, end_of_line = true) => end_of_line ? out.line(line) : out.text(line),
    );
  } finally {
    out.flush();
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
const tid = (t: number) => (t === SAMPLER_THREAD_ID ? "sampler" : String(t));

/**
 * Calls `line` for every record of `raw` (compressed or not). A memray 1.20 capture is dumped in
 * memray's own `parse` format instead (lib/memray_format/dump.ts).
 */
export function dumpCapture(raw: Uint8Array, path: string, line: DumpLine): void {
  const { bytes, compressed } = decompressIfNeeded(raw, path);
  if (isMemrayCapture(bytes)) {
    dumpMemrayCapture(bytes, compressed, path, line);
    return;
  }
  const header = parseHeader(bytes, path);
  line(headerLine(header, compressed));
  let start_time = header.start_time_ms;
  const module_index = header.native_traces ? collectModules(bytes, header, path) : undefined;
  const moduleOf = (ip: number): string => {
    const hit = module_index?.find(ip);
    return hit === undefined ? "?" : `${hit.module.path}+${hex(hit.offset)}`;
  };
  const visitor: RecordVisitor = {
    chunk(c: ChunkInfo) {
      line(
        `CHUNK offset=${c.offset} tid=${tid(c.thread_id)} index=${c.thread_chunk_index} ` +
          `first_seq=${c.first_seq} used_bytes=${c.used_bytes}${c.cut_off ? " cut_off=true" : ""}`,
      );
    },
    alloc(t, seq, addr, size, allocator) {
      line(
        `ALLOCATION seq=${seq} tid=${t} address=${hex(addr)} size=${size} allocator=${
          name(allocator)
        }`,
      );
    },
    free(t, seq, addr, kind) {
      line(`DEALLOCATION seq=${seq} tid=${t} address=${hex(addr)} allocator=${name(kind)}`);
    },
    munmap(t, seq, addr, size) {
      line(`DEALLOCATION seq=${seq} tid=${t} address=${hex(addr)} size=${size} allocator=munmap`);
    },
    pyStack(t, pops, pushes, frames) {
      if (pops > 0) line(`FRAME_POP tid=${t} count=${pops}`);
      for (let i = 0; i < pushes; i++) {
        line(
          `FRAME_PUSH tid=${t} code_object_id=${frames[3 * i]} ` +
            `instruction_offset=${frames[3 * i + 2]} is_entry_frame=${frames[3 * i + 1]}`,
        );
      }
    },
    nativeStack(t, pops, pushes, ips) {
      if (pops > 0) line(`NATIVE_FRAME_POP tid=${t} count=${pops}`);
      for (let i = 0; i < pushes; i++) {
        line(`NATIVE_FRAME_PUSH tid=${t} ip=${hex(ips[i])} module=${moduleOf(ips[i])}`);
      }
    },
    code(c: CodeObject) {
      line(
        `CODE_OBJECT code_id=${c.code_id} function_name=${c.name} qualname=${c.qualname} ` +
          `filename=${c.filename} firstlineno=${c.first_line} linetable_size=${c.linetable.length}`,
      );
    },
    threadName(t, n) {
      line(`THREAD tid=${tid(t)} name=${n}`);
    },
    threadInfo(t, os_tid, origin) {
      line(`THREAD_INFO tid=${t} os_tid=${os_tid} origin=${origin === 0 ? "python" : "native"}`);
    },
    rss(seq, time_offset_ms, rss_bytes) {
      line(`MEMORY_RECORD seq=${seq} time=${start_time + time_offset_ms} memory=${rss_bytes}`);
    },
    modules(seq, generation, modules: ModuleMap[]) {
      line(`MEMORY_MAP_START seq=${seq} generation=${generation} count=${modules.length}`);
      for (const m of modules) {
        const build_id = Array.from(m.build_id, (b) => b.toString(16).padStart(2, "0")).join("");
        line(
          `SEGMENT_HEADER filename=${m.path} build_id=${build_id || "-"} ` +
            `num_segments=${m.segments.length} addr=${hex(m.load_base)}`,
        );
        for (const s of m.segments) line(`SEGMENT vaddr=${hex(s.vaddr)} memsz=${s.memsz}`);
      }
    },
    threadSelect(t) {
      line(`THREAD_SELECT tid=${t}`);
    },
    heapSample(time_offset_ms, rss, heap) {
      line(`MEMORY_SNAPSHOT time=${start_time + time_offset_ms} rss=${rss} heap=${heap}`);
    },
    location(l: AggregatedLocation) {
      const py = [];
      for (let i = 0; i < l.python_frames.length; i += 3) {
        py.push(
          `${l.python_frames[i]}@${l.python_frames[i + 2]}${l.python_frames[i + 1] ? "e" : ""}`,
        );
      }
      line(
        `AGGREGATED_ALLOCATION tid=${l.thread_id} allocator=${name(l.allocator)} ` +
          `python_frames=[${py.join(",")}] native_frames=[${l.native_ips.map(hex).join(",")}] ` +
          `n_allocations_in_high_water_mark=${l.peak_count} bytes_in_high_water_mark=${l.peak_bytes} ` +
          `n_allocations_leaked=${l.leaked_count} bytes_leaked=${l.leaked_bytes}`,
      );
    },
  };
  start_time = header.start_time_ms;
  walkChunks(bytes, header, path, visitor);
}

/** A first pass for the module maps, so native frames can name their module wherever they stand. */
function collectModules(bytes: Uint8Array, header: CaptureHeader, path: string): ModuleIndex {
  const records: ModuleMapsRecord[] = [];
  walkChunks(bytes, header, path, {
    ...NOOP_VISITOR,
    modules: (seq, generation, modules) => records.push({ seq, generation, modules }),
  });
  return new ModuleIndex(records);
}

function name(kind: number): string {
  return (ALLOCATOR_NAMES[kind] ?? `unknown_0x${kind.toString(16)}`).toLowerCase();
}

function headerLine(h: CaptureHeader, compressed: boolean): string {
  const md = h.metadata;
  const fields = [
    "HEADER magic=MEMRAYDN",
    `version=${h.format_version}`,
    `python_version=${h.python_hexversion.toString(16).padStart(8, "0")}`,
    `native_traces=${h.native_traces}`,
    `file_format=${h.aggregated ? "AGGREGATED_ALLOCATIONS" : "ALL_ALLOCATIONS"}`,
    `layout=${h.packed ? "packed" : "live"}`,
    `compressed=${compressed}`,
    `finished=${h.finished}`,
    `chunk_size=${h.chunk_size_bytes}`,
    `seq_end=${h.seq_end}`,
    `start_time=${h.start_time_ms}`,
    `end_time=${h.end_time_ms}`,
    `pid=${h.pid}`,
    `main_tid=${md.main_thread_id ?? 1}`,
    `command_line=${md.command_line ?? ""}`,
    `python_allocator=${md.python_allocator ?? "unknown"}`,
    `trace_python_allocators=${h.trace_python_allocators}`,
    `metadata=${JSON.stringify(md)}`,
  ];
  return fields.join(" ");
}
