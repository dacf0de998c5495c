/**
 * State kept in the URL fragment ("#sort=size&dir=desc&node=12"), so a view can be linked to and
 * the back button undoes changes made with `push`.
 */
import { useCallback, useLayoutEffect, useState } from "preact/hooks";

const CHANGE_EVENT = "memray-hash-change";

/** The fragment's key/value pairs. */
export function readHash(): URLSearchParams {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

/**
 * Sets (or, with `value === undefined`, removes) keys of the fragment. `push` adds a history
 * entry (back undoes it); otherwise the current entry is replaced.
 */
export function writeHash(values: Record<string, string | undefined>, push = false): void {
  const params = readHash();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) params.delete(key);
    else params.set(key, value);
  }
  const text = params.toString();
  const url = `${location.pathname}${location.search}${text ? `#${text}` : ""}`;
  if (url === `${location.pathname}${location.search}${location.hash}`) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  // pushState/replaceState fire no event: tell the other hooks.
  dispatchEvent(new Event(CHANGE_EVENT));
}

/** Options of {@link useHashState}. */
export interface HashStateOptions {
  /** Add a history entry on change (default false: replace). */
  push?: boolean;
}

/**
 * A string state stored under `key` in the fragment; the default is not written. Follows the
 * back/forward buttons and edits of the fragment.
 */
export function useHashState(
  key: string,
  fallback: string,
  options: HashStateOptions = {},
): [string, (value: string) => void] {
  const [value, setValue] = useState(() => readHash().get(key) ?? fallback);
  // A layout effect: listening from the first paint on, so no early navigation is missed.
  useLayoutEffect(() => {
    const sync = () => setValue(readHash().get(key) ?? fallback);
    addEventListener("hashchange", sync);
    addEventListener("popstate", sync);
    addEventListener(CHANGE_EVENT, sync);
    return () => {
      removeEventListener("hashchange", sync);
      removeEventListener("popstate", sync);
      removeEventListener(CHANGE_EVENT, sync);
    };
  }, [key, fallback]);
  const set = useCallback((next: string) => {
    writeHash({ [key]: next === fallback ? undefined : next }, options.push ?? false);
    setValue(next);
  }, [key, fallback, options.push]);
  return [value, set];
}
