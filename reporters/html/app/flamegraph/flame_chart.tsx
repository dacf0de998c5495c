/**
 * The flame graph drawing: one absolutely positioned div per node at least 1 px wide (a flat
 * list; narrower nodes and their subtrees are skipped), icicle (root on top) or flame layout,
 * one delegated click and hover handler, and a tooltip.
 */
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ViewNode } from "./model.ts";

/** Row height in CSS pixels, as memray's cells. */
export const ROW_PX = 20;
/** Nodes narrower than this are not drawn. */
export const MIN_NODE_PX = 1;

/** A node placed on the chart. */
export interface PlacedNode {
  node: ViewNode;
  x: number;
  w: number;
}

/**
 * Places the zoomed node across `width` pixels, its ancestors full width above it, and its
 * descendants in proportion to their bytes, skipping those narrower than {@link MIN_NODE_PX}.
 */
export function placeNodes(zoom: ViewNode, width: number): PlacedNode[] {
  const out: PlacedNode[] = [];
  for (let a = zoom.parent; a !== null; a = a.parent) out.push({ node: a, x: 0, w: width });
  out.reverse();
  const scale = zoom.value > 0 ? width / zoom.value : 0;
  const stack: [ViewNode, number][] = [[zoom, 0]];
  while (stack.length > 0) {
    const [n, x] = stack.pop()!;
    const w = n === zoom ? width : n.value * scale;
    if (w < MIN_NODE_PX) continue;
    out.push({ node: n, x, w });
    let cx = x;
    for (const c of n.children) {
      stack.push([c, cx]);
      cx += c.value * scale;
    }
  }
  return out;
}

/** Props of {@link FlameChart}. */
export interface FlameChartProps {
  root: ViewNode;
  zoom: ViewNode;
  layout: "icicle" | "flame";
  /** Text drawn in a node. */
  label: (node: ViewNode) => string;
  /** CSS classes of a node (its colour). */
  className: (node: ViewNode) => string;
  /** Inline background colour, when the class does not set it. */
  color?: (node: ViewNode) => string | undefined;
  tooltip: (node: ViewNode) => ComponentChildren;
  onZoom: (node: ViewNode) => void;
}

/** The chart. */
export function FlameChart(props: FlameChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ node: ViewNode; x: number; y: number } | null>(null);
  // Measured before the first paint (a layout effect): an effect would run after it, so the
  // page would show an empty chart until the browser next painted.
  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () => setWidth(el.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const placed = useMemo(() => (width > 0 ? placeNodes(props.zoom, width) : []), [
    props.zoom,
    width,
  ]);
  const by_id = useMemo(() => new Map(placed.map((p) => [p.node, p])), [placed]);
  let max_depth = 0;
  for (const p of placed) max_depth = Math.max(max_depth, p.node.depth);
  const top = (depth: number) => (props.layout === "icicle" ? depth : max_depth - depth) * ROW_PX;
  const nodeAt = (target: EventTarget | null): ViewNode | undefined => {
    const el = (target as HTMLElement | null)?.closest?.("[data-index]") as HTMLElement | null;
    if (el === null || el === undefined) return undefined;
    return placed[Number(el.dataset.index)]?.node;
  };
  return (
    <div
      class="fg-chart"
      ref={box}
      data-testid="flame-chart"
      data-layout={props.layout}
      style={{ height: `${(max_depth + 1) * ROW_PX}px` }}
      onClick={(e) => {
        const n = nodeAt(e.target);
        if (n !== undefined) props.onZoom(n);
      }}
      onMouseMove={(e) => {
        const n = nodeAt(e.target);
        const rect = box.current!.getBoundingClientRect();
        setHover(
          n === undefined ? null : { node: n, x: e.clientX - rect.left, y: e.clientY - rect.top },
        );
      }}
      onMouseLeave={() => setHover(null)}
    >
      {placed.map((p, i) => (
        <div
          key={i}
          data-index={i}
          data-testid="flame-node"
          data-id={p.node.id}
          data-value={p.node.value}
          class={`fg-node ${props.className(p.node)}${p.node === props.zoom ? " fg-zoom" : ""}`}
          style={{
            left: `${p.x}px`,
            width: `${Math.max(p.w - 1, 1)}px`,
            top: `${top(p.node.depth)}px`,
            background: props.color?.(p.node),
          }}
        >
          {p.w > 24 ? props.label(p.node) : ""}
        </div>
      ))}
      {hover !== null && by_id.has(hover.node) && (
        <div
          class="fg-tooltip"
          role="tooltip"
          data-testid="flame-tooltip"
          style={{
            left: `${Math.min(hover.x + 12, Math.max(width - 360, 0))}px`,
            top: `${hover.y + 16}px`,
          }}
        >
          {props.tooltip(hover.node)}
        </div>
      )}
    </div>
  );
}
