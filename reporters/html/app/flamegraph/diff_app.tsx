/**
 * The differential flame graph page (`memray diff --html`): widths from the larger of the two
 * captures, red where the new capture holds more, blue where it holds less, with a legend.
 */
import { useMemo } from "preact/hooks";
import { Navbar, Notes } from "../common/navbar.tsx";
import { MemoryPlot } from "../common/memory_plot.tsx";
import { formatBytes, formatCount } from "../common/format.ts";
import { buildView, childrenOf, frameKind, type ViewNode } from "./model.ts";
import { diffColor, type DiffPageData, GROWTH_RGB, SHRINK_RGB } from "./diff_model.ts";
import {
  ChartControls,
  ChartView,
  FrameTitle,
  useChartModel,
  useChartState,
} from "./chart_controls.tsx";

const signedBytes = (
  n: number,
) => (n > 0 ? `+${formatBytes(n)}` : n < 0 ? `-${formatBytes(-n)}` : "±0 B");

/**
 * A node's classes: a search hit, else a diff node, marked native when its frame is (the
 * background says how it changed, so a native frame is told apart by a native-coloured edge).
 */
function diffClass(data: DiffPageData, n: ViewNode, matched: Set<number>): string {
  if (matched.has(n.id)) return "fg-hit";
  const tree = data.tree;
  const native = n.id !== 0 &&
    frameKind(data.strings[tree.filename[n.id]], tree.flags[n.id]) === "native";
  return native ? "fg-diff fg-diff-native" : "fg-diff";
}

/** The diff app. */
export function DiffApp({ data }: { data: DiffPageData }) {
  const state = useChartState();
  const tree = data.tree;
  const kids = useMemo(() => childrenOf(tree), [tree]);
  const root = useMemo(
    () =>
      buildView(
        tree,
        { hide_irrelevant: state.hideIrrelevant, hide_import_system: false, thread: -1 },
        kids,
      ),
    [state.hideIrrelevant],
  );
  const scale = useMemo(() => {
    let m = 0;
    for (let i = 1; i < tree.parent.length; i++) {
      m = Math.max(m, Math.abs(data.new_value[i] - data.base_value[i]));
    }
    return m;
  }, [tree]);
  const view = useChartModel(state, data, tree, root);
  const { zoom, search } = view;
  const t = data.totals;
  return (
    <div class="fg-page">
      <Navbar title={data.title} onStats={() => state.setShowStats(true)}>
        <ChartControls
          state={state}
          zoomed={zoom !== root}
          searchTotal={<>{search.nodes} matches</>}
        />
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
          <span>
            <span class="fg-swatch fg-diff-native" style={{ background: "var(--other)" }} />native
            frame
          </span>
        </span>{" "}
        Base {data.base.path}: {formatBytes(data.base.total_bytes)}; new {data.new.path}:{" "}
        {formatBytes(data.new.total_bytes)}{" "}
        (<span data-testid="diff-total">{signedBytes(t.delta_bytes)}</span>); {t.added} added,{" "}
        {t.removed} removed, {t.grown} grown, {t.shrunk} shrunk, {t.unchanged} unchanged locations
      </div>
      <ChartView
        view={view}
        className={(n) => diffClass(data, n, search.matched)}
        color={(n) => (search.matched.has(n.id)
          ? undefined
          : diffColor(data.base_value[n.id], data.new_value[n.id], scale))}
        tooltip={(n) => <DiffTooltip data={data} node={n} />}
      />
    </div>
  );
}

function DiffTooltip({ data, node }: { data: DiffPageData; node: ViewNode }) {
  const i = node.id;
  return (
    <div>
      <FrameTitle strings={data.strings} tree={data.tree} id={i} root="every location" />
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
