/**
 * The differential flame graph page (`memray diff --html`): widths from the larger of the two
 * captures, red where the new capture holds more, blue where it holds less, with a legend.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { Navbar, Notes } from "../common/navbar.tsx";
import { MemoryPlot } from "../common/memory_plot.tsx";
import { StatsPanel } from "../common/stats_panel.tsx";
import { formatBytes, formatCount } from "../common/format.ts";
import { useHashState, writeHash } from "../common/use_hash_state.ts";
import { FlameChart } from "./flame_chart.tsx";
import { buildView, childrenOf, findViewNode, searchTotals, type ViewNode } from "./model.ts";
import { diffColor, type DiffPageData, GROWTH_RGB, SHRINK_RGB } from "./diff_model.ts";
import { nodeLabel } from "./app.tsx";

const signedBytes = (
  n: number,
) => (n > 0 ? `+${formatBytes(n)}` : n < 0 ? `-${formatBytes(-n)}` : "±0 B");

/** The diff app. */
export function DiffApp({ data }: { data: DiffPageData }) {
  const [hideIrrelevant, setHideIrrelevant] = useState(true);
  const [layout, setLayout] = useState<"icicle" | "flame">("icicle");
  const [term, setTerm] = useState("");
  const [showStats, setShowStats] = useState(false);
  const [zoomText, setZoomText] = useHashState("node", "0", { push: true });
  const tree = data.tree;
  const kids = useMemo(() => childrenOf(tree), [tree]);
  const root = useMemo(
    () =>
      buildView(
        tree,
        { hide_irrelevant: hideIrrelevant, hide_import_system: false, thread: -1 },
        kids,
      ),
    [hideIrrelevant],
  );
  const scale = useMemo(() => {
    let m = 0;
    for (let i = 1; i < tree.parent.length; i++) {
      m = Math.max(m, Math.abs(data.new_value[i] - data.base_value[i]));
    }
    return m;
  }, [tree]);
  const zoom = findViewNode(root, Number(zoomText)) ?? root;
  const search = useMemo(() => searchTotals(data, tree, root, term.trim()), [root, term]);
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !showStats) writeHash({ node: undefined }, true);
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [showStats]);
  const t = data.totals;
  return (
    <div class="fg-page">
      <Navbar title={data.title} onStats={() => setShowStats(true)}>
        <label class="check">
          <input
            type="checkbox"
            data-testid="hide-irrelevant"
            checked={hideIrrelevant}
            onChange={(e) => setHideIrrelevant((e.target as HTMLInputElement).checked)}
          />
          Hide irrelevant frames
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
          <span class="fg-matches" data-testid="search-total">{search.nodes} matches</span>
        )}
      </Navbar>
      <MemoryPlot memory={data.memory} start_ms={data.stats.start_ms} />
      <Notes notes={data.notes} />
      <div class="fg-summary" data-testid="diff-legend">
        <span class="fg-legend">
          <span>
            <span class="fg-swatch" style={{ background: `rgb(${GROWTH_RGB})` }} />grew in new
          </span>
          <span>
            <span class="fg-swatch" style={{ background: `rgb(${SHRINK_RGB})` }} />shrank in new
          </span>
          <span>
            <span class="fg-swatch" style={{ background: "var(--other)" }} />unchanged
          </span>
        </span>{" "}
        Base {data.base.path}: {formatBytes(data.base.total_bytes)}; new {data.new.path}:{" "}
        {formatBytes(data.new.total_bytes)}{" "}
        (<span data-testid="diff-total">{signedBytes(t.delta_bytes)}</span>); {t.added} added,{" "}
        {t.removed} removed, {t.grown} grown, {t.shrunk} shrunk, {t.unchanged} unchanged locations
      </div>
      <FlameChart
        root={root}
        zoom={zoom}
        layout={layout}
        label={(n) => nodeLabel(data, tree, n.id)}
        className={(n) => (search.matched.has(n.id) ? "fg-hit" : "fg-diff")}
        color={(n) => (search.matched.has(n.id)
          ? undefined
          : diffColor(data.base_value[n.id], data.new_value[n.id], scale))}
        tooltip={(n) => <DiffTooltip data={data} node={n} />}
        onZoom={(n) =>
          setZoomText(String(n.id))}
      />
      {showStats && <StatsPanel stats={data.stats} onClose={() => setShowStats(false)} />}
    </div>
  );
}

function DiffTooltip({ data, node }: { data: DiffPageData; node: ViewNode }) {
  const s = data.strings;
  const i = node.id;
  const tree = data.tree;
  return (
    <div>
      {i === 0
        ? (
          <div>
            <b>{"<root>"}</b>: every location
          </div>
        )
        : (
          <div>
            File <b>{s[tree.filename[i]]}</b>, line <b>{tree.lineno[i]}</b> in{" "}
            <b>{s[tree.function[i]]}</b>
          </div>
        )}
      <div>
        base: {formatBytes(data.base_value[i])} in {formatCount(data.base_count[i])} allocations
      </div>
      <div>
        new: {formatBytes(data.new_value[i])} in {formatCount(data.new_count[i])} allocations
      </div>
      <div>change: {signedBytes(data.new_value[i] - data.base_value[i])}</div>
    </div>
  );
}
