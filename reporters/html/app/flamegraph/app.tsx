/**
 * The flame graph page (memray's flamegraph.html and temporal_flamegraph.html): navbar controls,
 * memory plot (with range selection in temporal mode), notes, the chart, stats dialog.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { allocatorBadge, Navbar, Notes } from "../common/navbar.tsx";
import { MemoryPlot, type PlotMarker } from "../common/memory_plot.tsx";
import { StatsPanel } from "../common/stats_panel.tsx";
import { formatBytes, formatCount } from "../common/format.ts";
import { useHashState, writeHash } from "../common/use_hash_state.ts";
import { FlameChart } from "./flame_chart.tsx";
import {
  buildView,
  childrenOf,
  findViewNode,
  FLAG_OTHER,
  type FlamegraphPageData,
  type FlameTree,
  frameKind,
  searchTotals,
  snapshotRange,
  temporalSelf,
  type ViewNode,
} from "./model.ts";

/** The text of a node: its source line, else "function at file:line" (memray's node name). */
export function nodeLabel(data: { strings: string[] }, tree: FlameTree, id: number): string {
  const s = data.strings;
  if (id === 0) return "<root>";
  if ((tree.flags[id] & FLAG_OTHER) !== 0) return `<${tree.lineno[id]} smaller frames>`;
  if (tree.source[id] >= 0) return s[tree.source[id]];
  return `${s[tree.function[id]]} at ${s[tree.filename[id]]}:${tree.lineno[id]}`;
}

function Tooltip(
  props: { data: FlamegraphPageData; tree: FlameTree; node: ViewNode; root: ViewNode },
) {
  const { data, tree, node } = props;
  const s = data.strings;
  const id = node.id;
  const share = props.root.value > 0
    ? ` (${((100 * node.value) / props.root.value).toFixed(2)} %)`
    : "";
  const other = (tree.flags[id] & FLAG_OTHER) !== 0;
  return (
    <div>
      {id === 0
        ? (
          <div>
            <b>{"<root>"}</b>: everything shown
          </div>
        )
        : other
        ? <div>{formatCount(tree.lineno[id])} frames too small to draw, folded together</div>
        : (
          <div>
            File <b>{s[tree.filename[id]]}</b>, line <b>{tree.lineno[id]}</b> in{" "}
            <b>{s[tree.function[id]]}</b>
          </div>
        )}
      {tree.source[id] >= 0 && <pre class="fg-source">{s[tree.source[id]]}</pre>}
      <div>{formatBytes(node.value)} total{share}</div>
      <div>{formatCount(node.n_allocations)} allocation{node.n_allocations === 1 ? "" : "s"}</div>
      {!data.merge_threads && id !== 0 && <div>Thread ID: {s[tree.thread[id]]}</div>}
    </div>
  );
}

/** The flame graph app. */
export function FlamegraphApp({ data }: { data: FlamegraphPageData }) {
  const [hideIrrelevant, setHideIrrelevant] = useState(true);
  const [hideImports, setHideImports] = useState(false);
  const [thread, setThread] = useState(-1);
  const [layout, setLayout] = useState<"icicle" | "flame">("icicle");
  const [term, setTerm] = useState("");
  const [showStats, setShowStats] = useState(false);
  const [zoomText, setZoomText] = useHashState("node", "0", { push: true });
  const temporal = data.temporal;
  const [range, setRange] = useState<[number, number] | null>(null);
  const tree = hideImports && data.no_imports_tree !== undefined ? data.no_imports_tree : data.tree;
  const kids = useMemo(() => childrenOf(tree), [tree]);
  const self = useMemo(() => {
    if (temporal === undefined) return undefined;
    const times = temporal.snapshot_time_ms;
    const r = range === null
      ? { first: 0, last: Math.max(times.length - 1, 0) }
      : snapshotRange(times, range[0], range[1]);
    return temporalSelf(tree, temporal, r);
  }, [tree, temporal, range]);
  const root = useMemo(
    () =>
      buildView(tree, {
        hide_irrelevant: hideIrrelevant,
        // The inverted graph swaps trees instead (memray's no-imports tree).
        hide_import_system: hideImports && data.no_imports_tree === undefined,
        thread,
        self,
      }, kids),
    [tree, kids, hideIrrelevant, hideImports, thread, self],
  );
  const zoom = findViewNode(root, Number(zoomText)) ?? root;
  const search = useMemo(() => searchTotals(data, tree, root, term.trim()), [root, term]);
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !showStats && readZoom() !== "0") {
        writeHash({ node: undefined }, true);
      }
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [showStats]);
  const threadNames = data.threads.map((t) => data.strings[t]);
  const markers: PlotMarker[] = [];
  if (temporal?.variant === "high_water_mark" && self !== undefined && self.snapshot >= 0) {
    const t =
      temporal.snapshot_time_ms[Math.min(self.snapshot, temporal.snapshot_time_ms.length - 1)];
    if (t !== undefined) markers.push({ time_ms: t, label: "highest heap in range" });
  }
  return (
    <div class="fg-page">
      <Navbar
        title={data.title}
        badges={[allocatorBadge(data.stats.python_allocator)]}
        onStats={() => setShowStats(true)}
      >
        {!data.merge_threads && threadNames.length > 1 && (
          <select
            data-testid="thread-filter"
            aria-label="Filter thread"
            value={String(thread)}
            onChange={(e) => setThread(Number((e.target as HTMLSelectElement).value))}
          >
            <option value="-1">All threads</option>
            {data.threads.map((t) => <option key={t} value={String(t)}>{data.strings[t]}</option>)}
          </select>
        )}
        <label class="check">
          <input
            type="checkbox"
            data-testid="hide-irrelevant"
            checked={hideIrrelevant}
            onChange={(e) => setHideIrrelevant((e.target as HTMLInputElement).checked)}
          />
          Hide irrelevant frames
        </label>
        <label class="check">
          <input
            type="checkbox"
            data-testid="hide-import-system"
            checked={hideImports}
            onChange={(e) => setHideImports((e.target as HTMLInputElement).checked)}
          />
          Hide import system frames
        </label>
        <span role="group" aria-label="Layout">
          <button
            type="button"
            class="btn btn-small"
            aria-pressed={layout === "flame"}
            onClick={() => setLayout("flame")}
          >
            Flames
          </button>
          <button
            type="button"
            class="btn btn-small"
            aria-pressed={layout === "icicle"}
            onClick={() => setLayout("icicle")}
          >
            Icicles
          </button>
        </span>
        <button
          type="button"
          class="btn btn-small"
          data-testid="reset-zoom"
          disabled={zoom === root}
          onClick={() => writeHash({ node: undefined }, true)}
        >
          Reset zoom
        </button>
        <input
          type="search"
          placeholder="Search"
          aria-label="Search frames"
          data-testid="search"
          value={term}
          onInput={(e) => setTerm((e.target as HTMLInputElement).value)}
        />
        {term.trim() !== "" && (
          <span class="fg-matches" data-testid="search-total">
            {search.nodes} match{search.nodes === 1 ? "" : "es"}, {formatBytes(search.bytes)}
            {root.value > 0 ? ` (${((100 * search.bytes) / root.value).toFixed(1)} %)` : ""}
          </span>
        )}
      </Navbar>
      <MemoryPlot
        memory={data.memory}
        start_ms={data.stats.start_ms}
        onRange={temporal === undefined ? undefined : (a, b) => setRange([a, b])}
        range={range}
        markers={markers}
      />
      <Notes notes={data.notes} />
      {temporal !== undefined && (
        <p class="fg-hint" data-testid="temporal-hint">
          {temporal.variant === "leaks"
            ? "Showing allocations made in the selected time range and not freed by its end."
            : "Showing what was live at the highest heap point of the selected time range."}{" "}
          Drag on the plot to choose a range.
        </p>
      )}
      <div class="fg-summary" data-testid="flame-total">
        {formatBytes(root.value)} in {formatCount(root.n_allocations)}{" "}
        allocation{root.n_allocations === 1 ? "" : "s"}
      </div>
      <FlameChart
        root={root}
        zoom={zoom}
        layout={layout}
        label={(n) => nodeLabel(data, tree, n.id)}
        className={(n) => nodeClass(data, tree, n, search.matched)}
        tooltip={(n) => <Tooltip data={data} tree={tree} node={n} root={root} />}
        onZoom={(n) => setZoomText(String(n.id))}
      />
      {showStats && <StatsPanel stats={data.stats} onClose={() => setShowStats(false)} />}
    </div>
  );
}

function readZoom(): string {
  return new URLSearchParams(location.hash.replace(/^#/, "")).get("node") ?? "0";
}

function nodeClass(
  data: FlamegraphPageData,
  tree: FlameTree,
  n: ViewNode,
  matched: Set<number>,
): string {
  if (matched.has(n.id)) return "fg-hit";
  if (n.id === 0 || (tree.flags[n.id] & FLAG_OTHER) !== 0) return "fg-plain";
  return `fg-${frameKind(data.strings[tree.filename[n.id]], tree.flags[n.id])}`;
}
