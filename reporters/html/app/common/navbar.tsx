/** The bar at the top of every page: title, badges, the page's controls, stats, theme. */
import type { ComponentChildren } from "preact";
import { ThemeToggle } from "./theme.tsx";

/** A small label next to the title. */
export interface Badge {
  text: string;
  /** "info" (default), "ok" (green) or "warn". */
  tone?: "info" | "ok" | "warn";
  /** Tooltip. */
  title?: string;
}

/** Props of {@link Navbar}. */
export interface NavbarProps {
  title: string;
  badges?: Badge[];
  /** Controls shown after the badges (filters, toggles, search). */
  children?: ComponentChildren;
  /** Shows a "Stats" button calling this. */
  onStats?: () => void;
}

/** The page's navbar. */
export function Navbar(props: NavbarProps) {
  return (
    <nav class="navbar" aria-label="Report controls" data-testid="navbar">
      <span class="navbar-brand" data-testid="navbar-title">{props.title}</span>
      {(props.badges ?? []).map((b) => (
        <span
          key={b.text}
          class={`badge badge-${b.tone ?? "info"}`}
          title={b.title}
          data-testid="badge"
        >
          {b.text}
        </span>
      ))}
      <div class="navbar-controls">{props.children}</div>
      <div class="navbar-end">
        {props.onStats && (
          <button type="button" class="btn" data-testid="stats-button" onClick={props.onStats}>
            Stats
          </button>
        )}
        <ThemeToggle />
      </div>
    </nav>
  );
}

/** The badge of the Python allocator, as memray's navbar shows it. */
export function allocatorBadge(python_allocator: string): Badge {
  if (python_allocator === "pymalloc") {
    return {
      text: "Python Allocator: pymalloc",
      tone: "warn",
      title: "pymalloc serves small objects from pools it keeps: freed objects may not " +
        "return memory to the system, and without --trace-python-allocators their " +
        "allocations are seen only when pools are allocated.",
    };
  }
  return { text: `Python Allocator: ${python_allocator}`, tone: "ok" };
}

/** The notes bar: what the page folded, downsampled or warns about. */
export function Notes(props: { notes: readonly string[] }) {
  if (props.notes.length === 0) return null;
  return (
    <div class="notes" role="note" data-testid="notes">
      {props.notes.map((n, i) => <p key={i}>{n}</p>)}
    </div>
  );
}
