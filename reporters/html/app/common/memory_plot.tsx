/**
 * RSS and heap over time as an SVG line plot: optional range selection by dragging (reported
 * through `onRange`), buttons that select the span ending at the peak heap or peak RSS sample,
 * markers, and "Download data as CSV" (memray's `usage_over_time.csv`).
 */
import { useMemo, useRef, useState } from "preact/hooks";
import type { PageMemory } from "../../data/common.ts";
import { formatBytes, formatCount, formatOffset } from "./format.ts";

/** A vertical line on the plot. */
export interface PlotMarker {
  time_ms: number;
  label: string;
}

/** Props of {@link MemoryPlot}. */
export interface MemoryPlotProps {
  memory: PageMemory;
  /** Start of the capture (time axis origin), Unix ms. */
  start_ms: number;
  /** Plot height in CSS pixels (default 120). */
  height?: number;
  /** Enables range selection and the peak buttons. */
  onRange?: (start_ms: number, end_ms: number) => void;
  /** The selected range to draw, Unix ms. */
  range?: [number, number] | null;
  markers?: PlotMarker[];
}

const WIDTH = 1000; // viewBox units; the SVG stretches to its box.

/** The CSV memray's plot exports: one row per trace and sample. */
export function memoryCsv(memory: PageMemory): string {
  const rows = ["trace,timestamp,memory_size_bytes"];
  const traces: [string, number[]][] = [
    ["Resident size", memory.rss_bytes],
    ["Heap size", memory.heap_bytes],
  ];
  for (const [name, values] of traces) {
    for (let i = 0; i < values.length; i++) {
      rows.push(`${name},${new Date(memory.time_ms[i]).toISOString()},${values[i]}`);
    }
  }
  return rows.join("\n") + "\n";
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The span ending at sample `i`: from the previous sample (or `i` itself) to `i`. */
export function peakRange(memory: PageMemory, i: number): [number, number] {
  return [memory.time_ms[Math.max(i - 1, 0)], memory.time_ms[i]];
}

/** The memory-over-time plot. */
export function MemoryPlot(props: MemoryPlotProps) {
  const m = props.memory;
  const n = m.time_ms.length;
  const height = props.height ?? 120;
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<[number, number] | null>(null);
  const t0 = n > 0 ? m.time_ms[0] : 0;
  const t1 = n > 0 ? m.time_ms[n - 1] : 1;
  const span = Math.max(t1 - t0, 1);
  const ymax = useMemo(() => {
    let top = 1;
    for (let i = 0; i < n; i++) top = Math.max(top, m.rss_bytes[i], m.heap_bytes[i]);
    return top;
  }, [m]);
  const x = (t: number) => ((t - t0) / span) * WIDTH;
  const line = (values: number[]) => {
    const pts: string[] = [];
    for (let i = 0; i < n; i++) {
      pts.push(
        `${x(m.time_ms[i]).toFixed(1)},${(height - (values[i] / ymax) * (height - 4)).toFixed(1)}`,
      );
    }
    return pts.join(" ");
  };
  const rss_line = useMemo(() => line(m.rss_bytes), [m, height]);
  const heap_line = useMemo(() => line(m.heap_bytes), [m, height]);
  if (n === 0) {
    return (
      <div class="memory-plot empty" data-testid="memory-plot">
        No memory samples in this capture.
      </div>
    );
  }
  const timeAt = (clientX: number) => {
    const box = svg.current!.getBoundingClientRect();
    const f = Math.min(Math.max((clientX - box.left) / Math.max(box.width, 1), 0), 1);
    return t0 + f * span;
  };
  const select = props.onRange;
  const shown = drag ?? props.range ?? null;
  const sel = shown && [Math.min(shown[0], shown[1]), Math.max(shown[0], shown[1])];
  const peak_heap = m.peak_heap_index;
  const peak_rss = m.peak_rss_index;
  return (
    <figure class="memory-plot" data-testid="memory-plot">
      <figcaption class="plot-legend">
        <span class="legend-rss">
          Resident size (peak {formatBytes(m.rss_bytes[peak_rss] ?? 0)})
        </span>
        <span class="legend-heap">
          Heap size (peak {formatBytes(m.heap_bytes[peak_heap] ?? 0)})
        </span>
        {m.downsampled_from !== undefined && (
          <span class="plot-note" data-testid="plot-downsampled">
            {formatCount(n)} points of {formatCount(m.downsampled_from)} samples
          </span>
        )}
        <span class="plot-buttons">
          {select && (
            <>
              <button
                type="button"
                class="btn btn-small"
                data-testid="peak-heap-button"
                onClick={() => select(...peakRange(m, peak_heap))}
              >
                Peak heap
              </button>
              <button
                type="button"
                class="btn btn-small"
                data-testid="peak-rss-button"
                onClick={() => select(...peakRange(m, peak_rss))}
              >
                Peak RSS
              </button>
              <button
                type="button"
                class="btn btn-small"
                data-testid="range-reset-button"
                onClick={() => select(t0, t1)}
              >
                Whole run
              </button>
            </>
          )}
          <button
            type="button"
            class="btn btn-small"
            data-testid="csv-button"
            onClick={() => download("usage_over_time.csv", memoryCsv(m))}
          >
            Download data as CSV
          </button>
        </span>
      </figcaption>
      <svg
        ref={svg}
        class={select ? "plot selectable" : "plot"}
        viewBox={`0 0 ${WIDTH} ${height}`}
        preserveAspectRatio="none"
        style={{ height: `${height}px` }}
        role="img"
        aria-label="Resident set size and heap size over time"
        onPointerDown={select && ((e) => {
          (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
          const t = timeAt(e.clientX);
          setDrag([t, t]);
        })}
        onPointerMove={select && ((e) => drag && setDrag([drag[0], timeAt(e.clientX)]))}
        onPointerUp={select && ((e) => {
          if (!drag) return;
          const end = timeAt(e.clientX);
          setDrag(null);
          const a = Math.min(drag[0], end), b = Math.max(drag[0], end);
          // A click is not a selection: under 0.5% of the width.
          if ((b - a) / span > 0.005) select(a, b);
        })}
      >
        {sel && (
          <rect
            class="plot-range"
            data-testid="plot-range"
            x={x(sel[0])}
            y={0}
            width={Math.max(x(sel[1]) - x(sel[0]), 2)}
            height={height}
          />
        )}
        <polyline class="line-rss" points={rss_line} vector-effect="non-scaling-stroke" />
        <polyline class="line-heap" points={heap_line} vector-effect="non-scaling-stroke" />
        {(props.markers ?? []).map((mk, i) => (
          <line
            key={i}
            class="plot-marker"
            x1={x(mk.time_ms)}
            x2={x(mk.time_ms)}
            y1={0}
            y2={height}
            vector-effect="non-scaling-stroke"
          >
            <title>{mk.label}</title>
          </line>
        ))}
      </svg>
      <div class="plot-axis">
        <span>{formatOffset(t0, props.start_ms)}</span>
        {sel && (
          <span data-testid="plot-range-label">
            selected {formatOffset(sel[0], props.start_ms)} – {formatOffset(sel[1], props.start_ms)}
          </span>
        )}
        <span>{formatOffset(t1, props.start_ms)}</span>
      </div>
    </figure>
  );
}
