/**
 * The flame graph page (memray's flamegraph.html and temporal_flamegraph.html): navbar controls,
 * memory plot (with range selection in temporal mode), notes, the chart, stats dialog.
 */
import { useMemo, useState } from "preact/hooks";
import { allocatorBadge, Navbar, Notes } from "../common/navbar.tsx";
import { MemoryPlot, type PlotMarker } from "../common/memory_plot.tsx";
import { formatBytes, formatCount } from "../common/format.ts";
import {
  ChartControls,
  ChartView,
  Check,
  FrameTitle,
  useChartModel,
  useChartState,
} from "./chart_controls.tsx";
import {
  buildView,
  childrenOf,
  FLAG_OTHER,
  type FlamegraphPageData,
  type FlameTree,
  frameKind,
  snapshotRange,
  temporalSelf,
  type ViewNode,
} from "./model.ts";

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
      {other
        ? <div>{formatCount(tree.lineno[id])} frames too small to draw, folded together</div>
        : <FrameTitle strings={s} tree={tree} id={id} root="everything shown" />}
      {tree.source[id] >= 0 && <pre class="fg-source">{s[tree.source[id]]}</pre>}
      <div>{formatBytes(node.value)} total{share}</div>
      <div>{formatCount(node.n_allocations)} allocation{node.n_allocations === 1 ? "" : "s"}</div>
      {!data.merge_threads && id !== 0 && <div>Thread ID: {s[tree.thread[id]]}</div>}
    </div>
  );
}

/** The flame graph app. */
export function FlamegraphApp({ data }: { data: FlamegraphPageData }) {
  const state = useChartState();
  const [hideImports, setHideImports] = useState(false);
  const [thread, setThread] = useState(-1);
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
        hide_irrelevant: state.hideIrrelevant,
        // The inverted graph swaps trees instead (memray's no-imports tree).
        hide_import_system: hideImports && data.no_imports_tree === undefined,
        thread,
        self,
      }, kids),
    [tree, kids, state.hideIrrelevant, hideImports, thread, self],
  );
  const view = useChartModel(state, data, tree, root);
  const { zoom, search } = view;
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
        onStats={() => state.setShowStats(true)}
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
        <ChartControls
          state={state}
          zoomed={zoom !== root}
          checks={
            <Check
              testId="hide-import-system"
              checked={hideImports}
              onChange={setHideImports}
              label="Hide import system frames"
            />
          }
          searchTotal={
            <>
              {search.nodes} match{search.nodes === 1 ? "" : "es"}, {formatBytes(search.bytes)}
              {root.value > 0 ? ` (${((100 * search.bytes) / root.value).toFixed(1)} %)` : ""}
            </>
          }
        />
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
      <ChartView
        view={view}
        className={(n) => nodeClass(data, tree, n, search.matched)}
        tooltip={(n) => <Tooltip data={data} tree={tree} node={n} root={root} />}
      />
    </div>
  );
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
