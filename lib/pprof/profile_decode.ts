/**
 * Decodes a pprof profile written by {@link ProfileBuilder} into plain data with names resolved:
 * the readable form tests and snapshots compare. Handles only what the builder writes.
 */
import { decodeFields, decodePacked, ProtobufField } from "./protobuf_reader.ts";
import type { ProfileFrame, ValueType } from "./profile.ts";

/** A decoded profile. */
export interface DecodedProfile {
  sample_types: ValueType[];
  default_sample_type: string;
  period_type?: ValueType;
  period: number;
  time_nanos: bigint;
  duration_nanos: bigint;
  comments: string[];
  /** Stacks leaf first, with their values. */
  samples: { frames: ProfileFrame[]; values: number[] }[];
  string_table: string[];
}

function varints(fields: ProtobufField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire_type === 0) out.push(f.value);
    else out.push(...decodePacked(f.bytes));
  }
  return out;
}

function first(fields: ProtobufField[], field: number): number {
  return varints(fields, field)[0] ?? 0;
}

function firstBig(fields: ProtobufField[], field: number): bigint {
  for (const f of fields) if (f.field === field && f.wire_type === 0) return f.big;
  return 0n;
}

function messages(fields: ProtobufField[], field: number): ProtobufField[][] {
  return fields.flatMap((
    f,
  ) => (f.field === field && f.wire_type === 2 ? [decodeFields(f.bytes)] : []));
}

/** Decodes an uncompressed Profile message. */
export function decodeProfile(bytes: Uint8Array): DecodedProfile {
  const top = decodeFields(bytes);
  const strings = top.flatMap((f) =>
    f.field === 6 && f.wire_type === 2 ? [new TextDecoder().decode(f.bytes)] : []
  );
  const str = (id: number) => {
    if (id >= strings.length) {
      throw new RangeError(`Cannot decode profile: string ${id} is missing`);
    }
    return strings[id];
  };
  const valueType = (m: ProtobufField[]) => ({ type: str(first(m, 1)), unit: str(first(m, 2)) });
  const functions = new Map<number, { name: string; filename: string }>();
  for (const m of messages(top, 5)) {
    functions.set(first(m, 1), { name: str(first(m, 2)), filename: str(first(m, 4)) });
  }
  const locations = new Map<number, ProfileFrame>();
  for (const m of messages(top, 4)) {
    const line = messages(m, 4)[0] ?? [];
    const fn = functions.get(first(line, 1));
    if (fn === undefined) throw new RangeError("Cannot decode profile: location without function");
    locations.set(first(m, 1), { function: fn.name, filename: fn.filename, line: first(line, 2) });
  }
  const samples = messages(top, 2).map((m) => ({
    frames: varints(m, 1).map((id) => {
      const loc = locations.get(id);
      if (loc === undefined) {
        throw new RangeError(`Cannot decode profile: location ${id} is missing`);
      }
      return loc;
    }),
    values: varints(m, 2),
  }));
  const period = messages(top, 11)[0];
  return {
    sample_types: messages(top, 1).map(valueType),
    default_sample_type: str(first(top, 14)),
    period_type: period ? valueType(period) : undefined,
    period: first(top, 12),
    time_nanos: firstBig(top, 9),
    duration_nanos: firstBig(top, 10),
    comments: varints(top, 13).map(str),
    samples,
    string_table: strings,
  };
}
