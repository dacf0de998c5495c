import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { decodeFields, decodePacked } from "./protobuf_reader.ts";
import { ProtobufWriter } from "./protobuf_writer.ts";

Deno.test("varints round-trip at 7-bit, 32-bit and 53-bit boundaries", () => {
  const values = [1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
  const w = new ProtobufWriter();
  values.forEach((v, i) => w.uint(i + 1, v));
  const fields = decodeFields(w.finish());
  assertEquals(fields.map((f) => f.field), values.map((_, i) => i + 1));
  assertEquals(fields.map((f) => (f.wire_type === 0 ? f.value : -1)), values);
});

Deno.test("known encodings: 150 is 96 01, field keys carry the wire type", () => {
  assertEquals([...new ProtobufWriter().uint(1, 150).finish()], [0x08, 0x96, 0x01]);
  assertEquals([...new ProtobufWriter().string(2, "ab").finish()], [0x12, 2, 0x61, 0x62]);
  assertEquals([...new ProtobufWriter().packed(3, [1, 300]).finish()], [0x1a, 3, 1, 0xac, 0x02]);
});

Deno.test("bigint varints hold nanosecond timestamps beyond 2^53", () => {
  const t = 1_700_000_000_123_456_789n;
  const fields = decodeFields(new ProtobufWriter().uint(9, t).uint(10, 2n ** 64n - 1n).finish());
  assertEquals(fields.map((f) => (f.wire_type === 0 ? f.big : -1n)), [t, 2n ** 64n - 1n]);
  assertThrows(() => new ProtobufWriter().varint(2n ** 64n), RangeError, "out of range");
});

Deno.test("zero scalars and empty packed fields are left out; empty strings are not", () => {
  const w = new ProtobufWriter().uint(1, 0).uint(2, 0n).packed(3, []).string(4, "");
  assertEquals([...w.finish()], [0x22, 0]);
});

Deno.test("refuses what it cannot encode or decode", () => {
  assertThrows(() => new ProtobufWriter().varint(-1), RangeError, "not a natural number");
  assertThrows(() => new ProtobufWriter().varint(2 ** 53), RangeError, "not a natural number");
  assertThrows(() => new ProtobufWriter().varint(1.5), RangeError, "not a natural number");
  assertThrows(() => decodeFields(Uint8Array.from([0x08, 0x80])), RangeError, "truncated");
  assertThrows(() => decodeFields(Uint8Array.from([0x12, 5, 1])), RangeError, "truncated");
  assertThrows(() => decodeFields(Uint8Array.from([0x09])), RangeError, "wire type 1");
  assertThrows(() => decodePacked(Uint8Array.from([0x80])), RangeError, "truncated");
});

Deno.test("embedded messages nest", () => {
  const w = new ProtobufWriter().message(5, (m) => m.uint(1, 7).string(2, "x"));
  const [outer] = decodeFields(w.finish());
  assertEquals(outer.field, 5);
  if (outer.wire_type !== 2) throw new Error("expected a length-delimited field");
  assertEquals(decodeFields(outer.bytes).map((f) => f.field), [1, 2]);
});
