/**
 * Data types shared by every HTML page (flame graph, table, diff) and the code that builds them.
 *
 * These objects are serialised to JSON and embedded in the page (see `reporters/html/page.ts`);
 * the browser app (`reporters/html/app/`) reads them back. Keep them plain JSON: numbers, strings,
 * arrays, objects; no `Map`, no `bigint`, no `undefined` inside arrays.
 */

/** Which app the page runs. */
export type PageKind = "flamegraph" | "table" | "diff";

/** Which allocations the page shows (memray's record-selection modes). */
export type PageMode = "high_water_mark" | "leaks" | "temporary";

/** The stats panel: facts about the capture, as memray's Stats modal. */
export interface PageStats {
  /** The command line that was profiled. */
  command: string;
  /** Unix milliseconds. */
  start_ms: number;
  /** Unix milliseconds (equal to `start_ms` when the capture was cut off before its end). */
  end_ms: number;
  /** Peak of the heap (live bytes seen by the profiler), in bytes. */
  peak_bytes: number;
  /**
   * Allocation and deallocation records in the capture (memray's "total allocations");
   * absent for aggregated captures, which do not keep them.
   */
  total_allocations?: number;
  /** Python allocator name as memray prints it: "pymalloc", "malloc", "pymalloc debug", ... */
  python_allocator: string;
  /** Process id, when known. */
  pid?: number;
  /** Whether native frames were captured. */
  native_traces?: boolean;
  /** Whether the capture was aggregated at capture time (`--aggregate`). */
  aggregated?: boolean;
}

/**
 * RSS and heap over time, one point per RSS sample, in time order.
 * The three arrays have the same length.
 */
export interface PageMemory {
  /** Unix milliseconds of each sample. */
  time_ms: number[];
  rss_bytes: number[];
  heap_bytes: number[];
  /** When the series was downsampled: the number of samples before downsampling. */
  downsampled_from?: number;
  /**
   * Index (in the arrays above) of the highest heap sample and of the highest RSS sample,
   * computed before downsampling so the peaks are never lost (-1 when the series is empty).
   */
  peak_heap_index: number;
  peak_rss_index: number;
}

/** What every page's data carries, whatever its kind. */
export interface PageCommon {
  kind: PageKind;
  /** Shown in the navbar and the document title, e.g. "memray table report". */
  title: string;
  mode: PageMode;
  stats: PageStats;
  memory: PageMemory;
  /** Sentences the page shows in a notes bar: what was folded, downsampled, or warned about. */
  notes: string[];
  /** Threads merged (false with `--split-threads`). */
  merge_threads: boolean;
}

/** One row of the table report: allocations grouped by (thread, allocator, top frame). */
export interface TableRow {
  /** Thread label ("0x1 (main)") when threads are split; "" when merged. */
  thread: string;
  /** Bytes (of the selected mode: at peak, leaked, or temporary). */
  size_bytes: number;
  /** Allocator name lowercased ("malloc", "pymalloc_malloc", "mmap", ...). */
  allocator: string;
  n_allocations: number;
  /** "func at file:line", or "???" when the allocation has no stack. */
  location: string;
}

/** The table page's data. Rows are columnar to keep large tables compact. */
export interface TablePageData extends PageCommon {
  kind: "table";
  rows: {
    /** Index into `strings`. */
    thread: number[];
    size_bytes: number[];
    /** Index into `strings`. */
    allocator: number[];
    n_allocations: number[];
    /** Index into `strings`. */
    location: number[];
  };
  /** Deduplicated strings referenced by the row columns. */
  strings: string[];
}

/** The largest number of points the memory plot carries; longer series are downsampled. */
export const MAX_MEMORY_POINTS = 2000;

/** Expands the columnar table rows into objects (used by the app and by tests). */
export function tableRows(data: TablePageData): TableRow[] {
  const s = data.strings;
  const r = data.rows;
  const out: TableRow[] = new Array(r.size_bytes.length);
  for (let i = 0; i < r.size_bytes.length; i++) {
    out[i] = {
      thread: s[r.thread[i]],
      size_bytes: r.size_bytes[i],
      allocator: s[r.allocator[i]],
      n_allocations: r.n_allocations[i],
      location: s[r.location[i]],
    };
  }
  return out;
}

/** Interns strings into a table, returning each string's index. */
export class StringTable {
  readonly strings: string[] = [];
  #index = new Map<string, number>();
  /** The index of `text`, adding it when new. */
  intern(text: string): number {
    let i = this.#index.get(text);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(text);
      this.#index.set(text, i);
    }
    return i;
  }
}
