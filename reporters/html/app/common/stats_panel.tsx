/** The Stats dialog: facts about the capture, as memray's Stats modal. */
import { Fragment } from "preact";
import { useLayoutEffect } from "preact/hooks";
import type { PageStats } from "../../data/common.ts";
import { formatBytes, formatCount, formatDuration, formatTimestamp } from "./format.ts";

/** Props of {@link StatsPanel}. */
export interface StatsPanelProps {
  stats: PageStats;
  onClose: () => void;
}

/** A modal dialog listing the capture's stats; Escape or the Close button closes it. */
export function StatsPanel({ stats, onClose }: StatsPanelProps) {
  // A layout effect: listening from the first paint on, so an early Escape is not lost.
  useLayoutEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [onClose]);
  const rows: [string, string][] = [
    ["Command line", stats.command || "unknown"],
    ["Start time", formatTimestamp(stats.start_ms)],
    ["End time", formatTimestamp(stats.end_ms)],
    ["Duration", formatDuration(stats.end_ms - stats.start_ms)],
    [
      "Total number of allocations",
      stats.total_allocations === undefined
        ? "unknown (aggregated capture)"
        : formatCount(stats.total_allocations),
    ],
    ["Peak memory usage", formatBytes(stats.peak_bytes)],
    ["Python allocator", stats.python_allocator],
  ];
  if (stats.pid !== undefined) rows.push(["Process id", String(stats.pid)]);
  if (stats.native_traces !== undefined) {
    rows.push(["Native traces", stats.native_traces ? "yes" : "no"]);
  }
  return (
    <div class="modal-backdrop" onClick={onClose}>
      <div
        class="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="stats-title"
        data-testid="stats-panel"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="stats-title">Stats</h2>
        <dl class="stats">
          {rows.map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd data-testid={`stat-${k.toLowerCase().replace(/ /g, "-")}`}>{v}</dd>
            </Fragment>
          ))}
        </dl>
        <button type="button" class="btn" onClick={onClose} autoFocus>Close</button>
      </div>
    </div>
  );
}
