/**
 * A tiny protocol-buffers reader, the inverse of {@link ProtobufWriter}: decodes one message into
 * its fields, for tests and for checking profiles we wrote.
 */
import { WIRE_LEN, WIRE_VARINT } from "./protobuf_writer.ts";

/** One decoded field: a varint value or the bytes of a length-delimited field. */
export type ProtobufField =
  | { field: number; wire_type: typeof WIRE_VARINT; value: number; big: bigint }
  | { field: number; wire_type: typeof WIRE_LEN; bytes: Uint8Array };

/** Decodes the fields of one message, in order. Throws on wire types other than 0 and 2. */
export function decodeFields(bytes: Uint8Array): ProtobufField[] {
  const fields: ProtobufField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw new RangeError("Cannot decode protobuf: varint is truncated");
      const b = bytes[pos++];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new RangeError("Cannot decode protobuf: varint is longer than 10 bytes");
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = Math.floor(key / 8);
    const wire_type = key % 8;
    if (wire_type === WIRE_VARINT) {
      const big = varint();
      fields.push({ field, wire_type, value: Number(big), big });
    } else if (wire_type === WIRE_LEN) {
      const length = Number(varint());
      if (pos + length > bytes.length) {
        throw new RangeError(`Cannot decode protobuf: field ${field} is truncated`);
      }
      fields.push({ field, wire_type, bytes: bytes.subarray(pos, pos + length) });
      pos += length;
    } else {
      throw new RangeError(`Cannot decode protobuf: unsupported wire type ${wire_type}`);
    }
  }
  return fields;
}

/** Decodes a packed repeated varint field's bytes. */
export function decodePacked(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let value = 0;
    let scale = 1;
    let done = false;
    for (let i = 0; i < 10 && pos < bytes.length; i++) {
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      scale *= 0x80;
      if ((b & 0x80) === 0) {
        done = true;
        break;
      }
    }
    if (!done) throw new RangeError("Cannot decode protobuf: packed varint is truncated");
    out.push(value);
  }
  return out;
}
