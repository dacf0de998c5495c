/**
 * Light and dark themes: the choice is saved in localStorage `memray-theme` (as memray's pages);
 * without one, the OS preference applies. The theme is the `data-theme` attribute of `<html>`.
 */
import { useState } from "preact/hooks";

export type Theme = "light" | "dark";

const STORAGE_KEY = "memray-theme";

function saved(): Theme | undefined {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : undefined;
  } catch {
    return undefined; // Storage can be disabled for file:// pages.
  }
}

/** The saved theme, else the OS preference. */
export function preferredTheme(): Theme {
  return saved() ??
    (globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

/** Applies a theme to the document. */
export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

/** Applies the preferred theme; call before the first render. */
export function initTheme(): void {
  applyTheme(preferredTheme());
}

/** The navbar button switching between light and dark. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(
    () => (document.documentElement.dataset.theme as Theme | undefined) ?? preferredTheme(),
  );
  const next: Theme = theme === "dark" ? "light" : "dark";
  const toggle = () => {
    applyTheme(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch { /* not saved: the toggle still works for this view */ }
    setTheme(next);
  };
  return (
    <button
      type="button"
      class="btn btn-icon"
      data-testid="theme-toggle"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      onClick={toggle}
    >
      {/* Words, not emoji: headless and minimal systems often lack an emoji font. */}
      {next === "dark" ? "Dark" : "Light"}
    </button>
  );
}
