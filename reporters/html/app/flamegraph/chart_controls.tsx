/**
 * What the flame graph page and the differential flame graph page share: their view state (with
 * the zoom in the URL fragment and Escape to unzoom), the navbar controls (hide irrelevant
 * frames, layout, reset zoom, search), the chart with its stats dialog, node labels and the
 * frame line of tooltips.
 */
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import { useHashState, writeHash } from "../common/use_hash_state.ts";
import { StatsPanel } from "../common/stats_panel.tsx";
import type { PageCommon } from "../../data/common.ts";
import { FlameChart, type FlameChartProps } from "./flame_chart.tsx";
import { findViewNode, FLAG_OTHER, type FlameTree, searchTotals, type ViewNode } from "./model.ts";

/** Root on top ("icicle") or at the bottom ("flame"). */
export type Layout = "icicle" | "flame";

/** The view state of a flame chart page (see {@link useChartState}). */
export interface ChartState {
  hideIrrelevant: boolean;
  setHideIrrelevant: (hide: boolean) => void;
  layout: Layout;
  setLayout: (layout: Layout) => void;
  /** The search box's text (untrimmed). */
  term: string;
  setTerm: (term: string) => void;
  showStats: boolean;
  setShowStats: (show: boolean) => void;
  /** The zoomed node's tree index (the root when the fragment names none). */
  zoomId: number;
  setZoomId: (id: number) => void;
}

/** Removes the zoom from the fragment, adding a history entry (back re-zooms). */
export function resetZoom(): void {
  writeHash({ node: undefined }, true);
}

/**
 * The view state of a flame chart page. The zoom lives in the fragment (`#node=12`, one history
 * entry per zoom); Escape unzooms unless the stats dialog is open (there it closes the dialog).
 */
export function useChartState(): ChartState {
  const [hideIrrelevant, setHideIrrelevant] = useState(true);
  const [layout, setLayout] = useState<Layout>("icicle");
  const [term, setTerm] = useState("");
  const [showStats, setShowStats] = useState(false);
  const [zoomText, setZoomText] = useHashState("node", "0", { push: true });
  // A layout effect: the listener follows `showStats` before the next paint, not after it.
  useLayoutEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !showStats) resetZoom();
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [showStats]);
  return {
    hideIrrelevant,
    setHideIrrelevant,
    layout,
    setLayout,
    term,
    setTerm,
    showStats,
    setShowStats,
    zoomId: Number(zoomText),
    setZoomId: (id) => setZoomText(String(id)),
  };
}

/** A labelled checkbox of the navbar. */
export function Check(
  props: { testId: string; checked: boolean; onChange: (on: boolean) => void; label: string },
) {
  return (
    <label class="check">
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      {props.label}
    </label>
  );
}

/** Props of {@link ChartControls}. */
export interface ChartControlsProps {
  state: ChartState;
  /** True when the chart is zoomed in (enables "Reset zoom"). */
  zoomed: boolean;
  /** Page-specific checkboxes, after "Hide irrelevant frames". */
  checks?: ComponentChildren;
  /** What the search matched, shown while the search box is not empty. */
  searchTotal: ComponentChildren;
}

/** The navbar controls of a flame chart page. */
export function ChartControls({ state, zoomed, checks, searchTotal }: ChartControlsProps) {
  const layoutButton = (layout: Layout, text: string) => (
    <button
      type="button"
      class="btn btn-small"
      aria-pressed={state.layout === layout}
      onClick={() => state.setLayout(layout)}
    >
      {text}
    </button>
  );
  return (
    <>
      <Check
        testId="hide-irrelevant"
        checked={state.hideIrrelevant}
        onChange={state.setHideIrrelevant}
        label="Hide irrelevant frames"
      />
      {checks}
      <span role="group" aria-label="Layout">
        {layoutButton("flame", "Flames")}
        {layoutButton("icicle", "Icicles")}
      </span>
      <button
        type="button"
        class="btn btn-small"
        data-testid="reset-zoom"
        disabled={!zoomed}
        onClick={resetZoom}
      >
        Reset zoom
      </button>
      <input
        type="search"
        placeholder="Search"
        aria-label="Search frames"
        data-testid="search"
        value={state.term}
        onInput={(e) => state.setTerm((e.target as HTMLInputElement).value)}
      />
      {state.term.trim() !== "" && (
        <span class="fg-matches" data-testid="search-total">{searchTotal}</span>
      )}
    </>
  );
}

/** The text of a node: its source line, else "function at file:line" (memray's node name). */
export function nodeLabel(data: { strings: string[] }, tree: FlameTree, id: number): string {
  const s = data.strings;
  if (id === 0) return "<root>";
  if ((tree.flags[id] & FLAG_OTHER) !== 0) return `<${tree.lineno[id]} smaller frames>`;
  if (tree.source[id] >= 0) return s[tree.source[id]];
  return `${s[tree.function[id]]} at ${s[tree.filename[id]]}:${tree.lineno[id]}`;
}

/** A tooltip's first line: the root's description, or the frame's file, line and function. */
export function FrameTitle(
  props: { strings: string[]; tree: FlameTree; id: number; root: string },
) {
  const { strings: s, tree, id } = props;
  if (id === 0) {
    return (
      <div>
        <b>{"<root>"}</b>: {props.root}
      </div>
    );
  }
  return (
    <div>
      File <b>{s[tree.filename[id]]}</b>, line <b>{tree.lineno[id]}</b> in{" "}
      <b>{s[tree.function[id]]}</b>
    </div>
  );
}

/** A page's view of the chart of `tree`: its view root, the zoomed node and the search. */
export interface ChartModel {
  state: ChartState;
  data: PageCommon & { strings: string[] };
  tree: FlameTree;
  root: ViewNode;
  /** The fragment's node when the view holds it, else the root. */
  zoom: ViewNode;
  /** What the search box's (trimmed) term matches in the view. */
  search: ReturnType<typeof searchTotals>;
}

/** The {@link ChartModel} of the view `root` of `tree`. */
export function useChartModel(
  state: ChartState,
  data: ChartModel["data"],
  tree: FlameTree,
  root: ViewNode,
): ChartModel {
  const zoom = findViewNode(root, state.zoomId) ?? root;
  const term = state.term.trim();
  const search = useMemo(() => searchTotals(data, tree, root, term), [root, term]);
  return { state, data, tree, root, zoom, search };
}

/** Props of {@link ChartView}: the page's colours and tooltip for the chart of `view`. */
export interface ChartViewProps extends Pick<FlameChartProps, "className" | "color" | "tooltip"> {
  view: ChartModel;
}

/** The chart (labelled with {@link nodeLabel}, zooming through the state) and the stats dialog. */
export function ChartView({ view, ...chart }: ChartViewProps) {
  const { state, data, tree, root, zoom } = view;
  return (
    <>
      <FlameChart
        {...chart}
        root={root}
        zoom={zoom}
        layout={state.layout}
        label={(n) => nodeLabel(data, tree, n.id)}
        onZoom={(n) => state.setZoomId(n.id)}
      />
      {state.showStats && (
        <StatsPanel
          stats={data.stats}
          onClose={() => state.setShowStats(false)}
        />
      )}
    </>
  );
}
