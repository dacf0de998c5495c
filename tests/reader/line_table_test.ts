import { assertEquals } from "../support/assert.ts";
import { decodeLineTable, lineForOffset, lineTableKind } from "../../lib/capture/line_table.ts";

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface Fixture {
  python_version: string;
  hexversion: number;
  codes: { name: string; first_line: number; linetable_hex: string; expected: number[][] }[];
}

for (const v of ["39", "310", "311", "312", "313"]) {
  Deno.test(`line tables of CPython ${v} decode to CPython's own answers`, async () => {
    const url = new URL(`./fixtures/line_tables_${v}.json`, import.meta.url);
    const fixture: Fixture = JSON.parse(await Deno.readTextFile(url));
    const kind = lineTableKind(fixture.hexversion);
    let checked = 0;
    for (const code of fixture.codes) {
      const ranges = decodeLineTable(kind, hex(code.linetable_hex), code.first_line);
      const got = code.expected.map(([off]) => [off, lineForOffset(ranges, off)]);
      assertEquals(got, code.expected, `${fixture.python_version} ${code.name}`);
      checked += got.length;
    }
    // The fixture must exercise something: far jumps and big functions produce many offsets.
    assertEquals(checked > 500, true);
  });
}

Deno.test("negative offsets map to the first line", () => {
  const ranges = decodeLineTable("linetable310", hex("0601"), 7);
  assertEquals(lineForOffset(ranges, -1), 7);
  assertEquals(lineForOffset(ranges, 0), 8);
});
