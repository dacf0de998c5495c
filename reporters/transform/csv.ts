/** The CSV transform (reference §2.8): one row per record, stacks as `func;file;line|...`. */
import type { Capture } from "../../lib/capture/reader.ts";
import type { LocationRecord } from "../../lib/analysis/locations.ts";
import { ALLOCATOR_NAMES } from "../../lib/capture/records.ts";
import { recordStack } from "./stacks.ts";
import { type StackFrames, StackResolver } from "../../lib/analysis/stack_resolver.ts";

/** The file's suffix (memray's `SUFFIX_MAP`). */
export const CSV_SUFFIX = ".csv";

/** Python's `csv.writer` quoting (QUOTE_MINIMAL): only fields with `,` `"` CR or LF. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** memray's `format_thread_name`: "0x<tid> (<name>)" or "0x<tid>". */
export function formatThreadName(capture: Capture, thread_id: number): string {
  const name = capture.threads.get(thread_id)?.name;
  const hex = `0x${thread_id.toString(16)}`;
  return name ? `${hex} (${name})` : hex;
}

/**
 * Renders records as memray's `render_as_csv`, rows ending in CRLF as Python's csv module.
 * `stacks`: the report's resolver (default: the capture's Python stacks).
 */
export function renderCsv(
  capture: Capture,
  records: readonly LocationRecord[],
  stacks: StackFrames = StackResolver.python(capture),
): string {
  const rows = [["allocator", "num_allocations", "size", "tid", "thread_name", "stack_trace"]];
  for (const record of records) {
    const stack = recordStack(stacks, record)
      .map((f) => `${f.function};${f.filename};${f.lineno}`)
      .join("|");
    rows.push([
      ALLOCATOR_NAMES[record.allocator] ?? `UNKNOWN_${record.allocator}`,
      String(record.count),
      String(record.size_bytes),
      String(record.thread_id),
      formatThreadName(capture, record.thread_id),
      stack,
    ]);
  }
  return rows.map((row) => row.map(csvField).join(",") + "\r\n").join("");
}
