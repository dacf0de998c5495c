/** JSON text as Python's `json.dump(obj, f)` writes it (memray's transform output). */

/**
 * Serializes `value` as `json.dumps` with default arguments: separators ", " and ": ", no
 * indentation, non-ASCII characters escaped as `\uXXXX` (`ensure_ascii=True`).
 */
export function pythonJsonDumps(value: unknown): string {
  const text = JSON.stringify(value, null, 0);
  return reseparate(text).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Puts a space after every ',' and ':' that separates JSON tokens (not those inside strings). */
function reseparate(text: string): string {
  let out = "";
  let start = 0;
  let in_string = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (in_string) {
      if (c === 0x5c) i++; // A backslash escapes the next character.
      else if (c === 0x22) in_string = false;
    } else if (c === 0x22) {
      in_string = true;
    } else if (c === 0x2c || c === 0x3a) {
      out += text.slice(start, i + 1) + " ";
      start = i + 1;
    }
  }
  return out + text.slice(start);
}
