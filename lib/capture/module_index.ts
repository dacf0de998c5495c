/**
 * Which loaded module an instruction pointer falls in, at a point of the run. Module maps come in
 * generations (MODULES records, each with a sequence number); an address is looked up in the
 * latest generation written at or before the event, or the first one when the event came earlier
 * (the engine writes the first map as tracking starts, so that only happens in crash-cut files).
 */
import type { ModuleMapsRecord } from "./reader.ts";
import type { ModuleMap } from "./records.ts";

/** A module and the address relative to its load base (what a symbolizer needs). */
export interface ModuleHit {
  module: ModuleMap;
  /** `ip - load_base`: the address as the ELF file sees it. */
  offset: number;
}

interface Range {
  start: number;
  end: number;
  module: ModuleMap;
}

/** Finds the module of an address in O(log n) per look-up. */
export class ModuleIndex {
  readonly #generations: { seq: number; ranges: Range[] }[];

  /** `records` in any order; they are sorted by sequence number. */
  constructor(records: readonly ModuleMapsRecord[]) {
    this.#generations = [...records]
      .sort((a, b) => a.seq - b.seq)
      .map((record) => ({ seq: record.seq, ranges: rangesOf(record.modules) }));
  }

  /** The module holding `ip` in the map current at event `seq` (default: the latest map). */
  find(ip: number, seq = Number.MAX_SAFE_INTEGER): ModuleHit | undefined {
    const generations = this.#generations;
    if (generations.length === 0) return undefined;
    let chosen = 0;
    for (let i = generations.length - 1; i >= 0; i--) {
      if (generations[i].seq <= seq) {
        chosen = i;
        break;
      }
    }
    const range = search(generations[chosen].ranges, ip);
    if (range === undefined) return undefined;
    return { module: range.module, offset: ip - range.module.load_base };
  }
}

function rangesOf(modules: readonly ModuleMap[]): Range[] {
  const ranges: Range[] = [];
  for (const module of modules) {
    for (const segment of module.segments) {
      const start = module.load_base + segment.vaddr;
      ranges.push({ start, end: start + segment.memsz, module });
    }
  }
  return ranges.sort((a, b) => a.start - b.start);
}

function search(ranges: readonly Range[], ip: number): Range | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const range = ranges[middle];
    if (ip < range.start) high = middle - 1;
    else if (ip >= range.end) low = middle + 1;
    else return range;
  }
  return undefined;
}
