import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { gunzip, gzip, ProfileBuilder } from "./profile.ts";
import { decodeProfile } from "./profile_decode.ts";

const TYPES = [{ type: "objects", unit: "count" }, { type: "space", unit: "bytes" }];

Deno.test("a profile round-trips through encode, gzip and decode", () => {
  const b = new ProfileBuilder({
    sample_types: TYPES,
    default_sample_type: "space",
    period_type: { type: "space", unit: "bytes" },
    period: 1,
    time_nanos: 1_700_000_000_000_000_000n,
    duration_nanos: 2_500_000_000n,
    comments: ["app.py --size 3", "second"],
  });
  const leaf = { function: "build", filename: "/a/app.py", line: 12 };
  const root = { function: "<module>", filename: "/a/app.py", line: 3 };
  b.add([leaf, root], [1, 100]);
  b.add([root], [2, 50]);
  b.add([leaf, root], [3, 7]); // Same stack: summed into the first sample.
  b.add([{ ...leaf, line: 13 }, root], [1, 1]); // Another line: another location, same function.
  const bytes = gunzip(gzip(b.encode()));
  const p = decodeProfile(bytes);
  assertEquals(p.sample_types, TYPES);
  assertEquals(p.default_sample_type, "space");
  assertEquals(p.period_type, { type: "space", unit: "bytes" });
  assertEquals(p.period, 1);
  assertEquals(p.time_nanos, 1_700_000_000_000_000_000n);
  assertEquals(p.duration_nanos, 2_500_000_000n);
  assertEquals(p.comments, ["app.py --size 3", "second"]);
  assertEquals(p.samples, [
    { frames: [leaf, root], values: [4, 107] },
    { frames: [root], values: [2, 50] },
    { frames: [{ ...leaf, line: 13 }, root], values: [1, 1] },
  ]);
  assertEquals(p.string_table[0], "");
  // Strings are interned: each name once.
  assertEquals(p.string_table.filter((s) => s === "/a/app.py").length, 1);
  assertEquals(b.samples().length, 3);
});

Deno.test("gzip output is a gzip member (magic 1f 8b) with mtime 0, so output is reproducible", () => {
  const z = gzip(new TextEncoder().encode("hello"));
  assertEquals([z[0], z[1]], [0x1f, 0x8b]);
  assertEquals([...z.subarray(4, 8)], [0, 0, 0, 0]);
  assertEquals(new TextDecoder().decode(gunzip(z)), "hello");
});

Deno.test("the builder refuses malformed samples and sample types", () => {
  assertThrows(() => new ProfileBuilder({ sample_types: [] }), RangeError, "needs a sample type");
  assertThrows(
    () => new ProfileBuilder({ sample_types: TYPES, default_sample_type: "inuse" }),
    RangeError,
    "Unknown default sample type inuse",
  );
  const b = new ProfileBuilder({ sample_types: TYPES });
  assertThrows(() => b.add([], [1]), RangeError, "needs 2 values, not 1");
});
