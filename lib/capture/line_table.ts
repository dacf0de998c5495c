/**
 * Python line tables: maps a frame's instruction offset (bytes into the bytecode) to a line.
 * Three encodings exist: `co_lnotab` (3.9 and earlier), `co_linetable` pairs (3.10, PEP 626) and
 * the location table (3.11+, PEP 657). Each table is decoded once into sorted ranges.
 */

/** Decoded line ranges: `starts[i]..ends[i]` (bytes, end exclusive) have line `lines[i]`. */
export interface LineRanges {
  starts: Int32Array;
  ends: Int32Array;
  /** 0 where the table says "no line". */
  lines: Int32Array;
  first_line: number;
}

/** Which encoding a table uses, picked from the interpreter's `sys.hexversion`. */
export type LineTableKind = "lnotab" | "linetable310" | "locations311";

/** Picks the table kind for a `sys.hexversion` (0 = unknown: assume the current format). */
export function lineTableKind(python_hexversion: number): LineTableKind {
  if (python_hexversion === 0) return "locations311";
  const minor = (python_hexversion >>> 16) & 0xff;
  const major = (python_hexversion >>> 24) & 0xff;
  if (major < 3 || (major === 3 && minor <= 9)) return "lnotab";
  if (major === 3 && minor === 10) return "linetable310";
  return "locations311";
}

class RangeBuilder {
  starts: number[] = [];
  ends: number[] = [];
  lines: number[] = [];
  add(start: number, end: number, line: number): void {
    if (end <= start) return;
    const n = this.lines.length;
    if (n > 0 && this.lines[n - 1] === line && this.ends[n - 1] === start) {
      this.ends[n - 1] = end; // Merge adjacent ranges of the same line.
      return;
    }
    this.starts.push(start);
    this.ends.push(end);
    this.lines.push(line);
  }
  build(first_line: number): LineRanges {
    return {
      starts: Int32Array.from(this.starts),
      ends: Int32Array.from(this.ends),
      lines: Int32Array.from(this.lines),
      first_line,
    };
  }
}

const LNOTAB_END = 0x7fffffff;

function decodeLnotab(table: Uint8Array, first_line: number): LineRanges {
  // Each pair (addr_incr, signed line_incr) starts a new line at the running address.
  const b = new RangeBuilder();
  let addr = 0;
  let line = first_line;
  let start = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    const addr_incr = table[i];
    const line_incr = (table[i + 1] << 24) >> 24;
    if (addr_incr !== 0) {
      b.add(start, addr + addr_incr, line);
      start = addr + addr_incr;
    }
    addr += addr_incr;
    line += line_incr;
  }
  b.add(start, LNOTAB_END, line);
  return b.build(first_line);
}

function decodeLinetable310(table: Uint8Array, first_line: number): LineRanges {
  const b = new RangeBuilder();
  let line = first_line;
  let start = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    const sdelta = table[i];
    const ldelta = (table[i + 1] << 24) >> 24;
    if (ldelta !== -128) line += ldelta;
    b.add(start, start + sdelta, ldelta === -128 ? 0 : line);
    start += sdelta;
  }
  return b.build(first_line);
}

function decodeLocations311(table: Uint8Array, first_line: number): LineRanges {
  const b = new RangeBuilder();
  let line = first_line;
  let addr_units = 0;
  let i = 0;
  const varint = (): number => {
    let shift = 0;
    let value = 0;
    for (let n = 0; n < 10 && i < table.length; n++) {
      const byte = table[i++];
      value += (byte & 63) * 2 ** shift;
      shift += 6;
      if ((byte & 64) === 0) break;
    }
    return value;
  };
  const svarint = (): number => {
    const v = varint();
    return v % 2 === 1 ? -Math.floor(v / 2) : v / 2;
  };
  while (i < table.length) {
    const head = table[i++];
    if ((head & 0x80) === 0) break; // Malformed: every entry starts with the high bit set.
    const code = (head >>> 3) & 15;
    const length_units = (head & 7) + 1;
    let entry_line: number;
    if (code === 15) {
      entry_line = 0; // No location.
    } else if (code === 14) {
      line += svarint();
      entry_line = line;
      varint(); // End line delta.
      varint(); // Column + 1.
      varint(); // End column + 1.
    } else if (code === 13) {
      line += svarint();
      entry_line = line;
    } else if (code >= 10) {
      line += code - 10;
      entry_line = line;
      i += 2; // Start and end column.
    } else {
      entry_line = line;
      i += 1; // Short form column byte.
    }
    b.add(addr_units * 2, (addr_units + length_units) * 2, entry_line);
    addr_units += length_units;
  }
  return b.build(first_line);
}

/** Decodes `table` of `kind` into ranges. */
export function decodeLineTable(
  kind: LineTableKind,
  table: Uint8Array,
  first_line: number,
): LineRanges {
  switch (kind) {
    case "lnotab":
      return decodeLnotab(table, first_line);
    case "linetable310":
      return decodeLinetable310(table, first_line);
    case "locations311":
      return decodeLocations311(table, first_line);
  }
}

/**
 * The line for `offset_bytes`: negative offsets ("not started") and offsets past the table map to
 * `first_line`; ranges the table marks as lineless map to 0.
 */
export function lineForOffset(ranges: LineRanges, offset_bytes: number): number {
  if (offset_bytes < 0) return ranges.first_line;
  const { starts, ends, lines } = ranges;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] > offset_bytes) hi = mid - 1;
    else if (ends[mid] <= offset_bytes) lo = mid + 1;
    else return lines[mid];
  }
  return ranges.first_line;
}
