/**
 * Builds a pprof profile (github.com/google/pprof proto/profile.proto) and encodes it gzipped, as
 * `go tool pprof` reads it. Functions, locations and strings are interned; a location is one
 * (function, line) with no mapping and address 0, which is how profiles of interpreted code look.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { ProtobufWriter } from "./protobuf_writer.ts";

/** A sample type or period type: `type`/`unit` as in "inuse_space"/"bytes". */
export interface ValueType {
  type: string;
  unit: string;
}

/** One frame of a sample's stack. */
export interface ProfileFrame {
  function: string;
  filename: string;
  /** 0 when unknown. */
  line: number;
}

/** Options of {@link ProfileBuilder}. */
export interface ProfileInit {
  sample_types: ValueType[];
  /** Which sample type pprof shows by default (one of `sample_types`). */
  default_sample_type?: string;
  period_type?: ValueType;
  period?: number;
  time_nanos?: bigint;
  duration_nanos?: bigint;
  comments?: string[];
}

// Field numbers of profile.proto.
const PROFILE = {
  sample_type: 1,
  sample: 2,
  location: 4,
  function: 5,
  string_table: 6,
  time_nanos: 9,
  duration_nanos: 10,
  period_type: 11,
  period: 12,
  comment: 13,
  default_sample_type: 14,
} as const;
const VALUE_TYPE = { type: 1, unit: 2 } as const;
const SAMPLE = { location_id: 1, value: 2 } as const;
const LOCATION = { id: 1, line: 4 } as const;
const LINE = { function_id: 1, line: 2 } as const;
const FUNCTION = { id: 1, name: 2, filename: 4 } as const;

/** Collects samples and encodes the profile. */
export class ProfileBuilder {
  readonly #init: ProfileInit;
  #strings = new Map<string, number>([["", 0]]);
  #functions = new Map<string, { id: number; name: number; filename: number }>();
  #locations = new Map<string, { id: number; function_id: number; line: number }>();
  #samples = new Map<string, { location_ids: number[]; values: number[] }>();

  constructor(init: ProfileInit) {
    if (init.sample_types.length === 0) throw new RangeError("A profile needs a sample type");
    const names = init.sample_types.map((t) => t.type);
    if (init.default_sample_type !== undefined && !names.includes(init.default_sample_type)) {
      throw new RangeError(`Unknown default sample type ${init.default_sample_type}`);
    }
    this.#init = init;
  }

  /** How many values each sample carries. */
  get value_count(): number {
    return this.#init.sample_types.length;
  }

  #string(s: string): number {
    let id = this.#strings.get(s);
    if (id === undefined) {
      id = this.#strings.size;
      this.#strings.set(s, id);
    }
    return id;
  }

  #location(frame: ProfileFrame): number {
    const fkey = `${frame.function}\0${frame.filename}`;
    let fn = this.#functions.get(fkey);
    if (fn === undefined) {
      fn = {
        id: this.#functions.size + 1,
        name: this.#string(frame.function),
        filename: this.#string(frame.filename),
      };
      this.#functions.set(fkey, fn);
    }
    const lkey = `${fn.id}:${frame.line}`;
    let loc = this.#locations.get(lkey);
    if (loc === undefined) {
      loc = { id: this.#locations.size + 1, function_id: fn.id, line: frame.line };
      this.#locations.set(lkey, loc);
    }
    return loc.id;
  }

  /**
   * Adds `values` (one per sample type, natural numbers) to the sample of stack `frames`
   * (leaf first, as pprof orders locations). Equal stacks share one sample.
   */
  add(frames: readonly ProfileFrame[], values: readonly number[]): void {
    if (values.length !== this.value_count) {
      throw new RangeError(`A sample needs ${this.value_count} values, not ${values.length}`);
    }
    const location_ids = frames.map((f) => this.#location(f));
    const key = location_ids.join(",");
    let sample = this.#samples.get(key);
    if (sample === undefined) {
      sample = { location_ids, values: new Array(values.length).fill(0) };
      this.#samples.set(key, sample);
    }
    for (let i = 0; i < values.length; i++) sample.values[i] += values[i];
  }

  /** Samples added so far: stacks as location ids and summed values, in order of first add. */
  samples(): { location_ids: number[]; values: number[] }[] {
    return [...this.#samples.values()].map((s) => ({ ...s, values: [...s.values] }));
  }

  /** The encoded (not compressed) Profile message. */
  encode(): Uint8Array {
    const init = this.#init;
    const w = new ProtobufWriter();
    const valueType = (field: number, t: ValueType) => {
      const type = this.#string(t.type);
      const unit = this.#string(t.unit);
      w.message(field, (m) => m.uint(VALUE_TYPE.type, type).uint(VALUE_TYPE.unit, unit));
    };
    for (const t of init.sample_types) valueType(PROFILE.sample_type, t);
    for (const s of this.#samples.values()) {
      w.message(PROFILE.sample, (m) => {
        m.packed(SAMPLE.location_id, s.location_ids);
        m.packed(SAMPLE.value, s.values);
      });
    }
    for (const l of this.#locations.values()) {
      w.message(PROFILE.location, (m) => {
        m.uint(LOCATION.id, l.id);
        m.message(
          LOCATION.line,
          (x) => x.uint(LINE.function_id, l.function_id).uint(LINE.line, l.line),
        );
      });
    }
    for (const f of this.#functions.values()) {
      w.message(PROFILE.function, (m) => {
        // No system_name: pprof would "demangle" it into the name, and "<module>" comes out empty.
        m.uint(FUNCTION.id, f.id).uint(FUNCTION.name, f.name).uint(FUNCTION.filename, f.filename);
      });
    }
    // Strings the trailing fields refer to must be interned before the table is written.
    const period_type = init.period_type;
    const period_ids = period_type
      ? [this.#string(period_type.type), this.#string(period_type.unit)]
      : undefined;
    const comment_ids = (init.comments ?? []).map((c) => this.#string(c));
    const default_id = init.default_sample_type === undefined
      ? 0
      : this.#string(init.default_sample_type);
    for (const s of this.#strings.keys()) w.string(PROFILE.string_table, s);
    w.uint(PROFILE.time_nanos, init.time_nanos ?? 0);
    w.uint(PROFILE.duration_nanos, init.duration_nanos ?? 0);
    if (period_ids) {
      w.message(PROFILE.period_type, (m) => m.uint(1, period_ids[0]).uint(2, period_ids[1]));
    }
    w.uint(PROFILE.period, init.period ?? 0);
    w.packed(PROFILE.comment, comment_ids);
    w.uint(PROFILE.default_sample_type, default_id);
    return w.finish();
  }
}

/** Gzips `bytes` (pprof files are gzipped Profile messages); the header's mtime is 0. */
export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** Gunzips `bytes`. */
export function gunzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gunzipSync(bytes));
}
