import { assertEquals } from "../../tests/support/assert.ts";
import { dumpMemrayCapture } from "./dump.ts";

/** A memray 1.20 header (version 13) followed by `records`. */
function memrayFile(records: number[], native = false): Uint8Array {
  const out: number[] = [];
  const str = (s: string) => out.push(...new TextEncoder().encode(s), 0);
  const int = (n: number, width: number) => {
    for (let i = 0; i < width; i++) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
  };
  out.push(...new TextEncoder().encode("memray"), 0);
  int(13, 4);
  int(0x030b0ff0, 4);
  out.push(native ? 1 : 0, 0);
  int(7, 8); // n_allocations
  int(0, 8); // n_frames
  int(1_700_000_000_000, 8);
  int(1_700_000_000_500, 8);
  str("python app.py");
  int(4242, 4);
  int(1, 8); // main_tid
  int(3, 8); // skipped_frames_on_main_tid
  out.push(4, 0, 0); // python_allocator other, trace_python_allocators, track_object_lifetimes
  str("/usr/lib/python3.11");
  str("/sp");
  str("");
  str("/app");
  str("/usr/lib/python3.11");
  str("");
  return new Uint8Array([...out, ...records]);
}

const RECORDS = [
  ...[12, 2, 0, 0, 0, 0, 0, 0, 0], // CONTEXT_SWITCH tid=2
  ...[14, 1, 0x66, 0, 0x61, 0x2e, 0x70, 0x79, 0, 20, 2, 9, 9], // CODE_OBJECT 1 f a.py +10, 2 bytes
  ...[0x41, 1, 12], // FRAME_PUSH code 1, offset 6, entry
  ...[0xfe, 0x80, 0x08, 100], // ALLOCATION miss: pointer +512 (0x1000), malloc, size 100
  ...[0x85], // ALLOCATION cache slot 0, free
  ...[0x10], // FRAME_POP 1
  ...[2, 0xe8, 0x07, 5], // MEMORY_RECORD rss 1000 at +5 ms
  ...[10, 0x77, 0], // THREAD "w"
  1, // TRAILER
];

const HEADER = "HEADER magic=memray version=13 python_version=030b0ff0 native_traces=false " +
  "file_format=ALL_ALLOCATIONS n_allocations=7 n_frames=0 start_time=1700000000000 " +
  "end_time=1700000000500 pid=4242 main_tid=1 skipped_frames_on_main_tid=3 " +
  "command_line=python app.py python_allocator=other trace_python_allocators=false " +
  "track_object_lifetimes=false libdest=/usr/lib/python3.11 site_packages=[/sp] " +
  "sys.path=[/app, /usr/lib/python3.11]";

function dump(bytes: Uint8Array, compressed = false): string {
  let out = "";
  dumpMemrayCapture(bytes, compressed, "t.bin", (t, eol = true) => out += eol ? `${t}\n` : t);
  return out;
}

Deno.test("dumpMemrayCapture prints memray's parse lines", () => {
  assertEquals(
    dump(memrayFile(RECORDS)),
    [
      HEADER,
      "CONTEXT_SWITCH tid=2",
      "CODE_OBJECT code_id=1 function_name=f filename=a.py firstlineno=10 linetable_size=2",
      "FRAME_PUSH code_object_id=1 instruction_offset=6 is_entry_frame=1",
      "ALLOCATION address=0x1000 size=100 allocator=malloc native_frame_id=0",
      "ALLOCATION address=0x1000 size=0 allocator=free native_frame_id=0",
      "FRAME_POP count=1",
      "MEMORY_RECORD time=1700000000005 memory=1000",
      "THREAD w",
      "TRAILER",
      "",
    ].join("\n"),
  );
});

Deno.test("dumpMemrayCapture stops as memray at a cut record, an unknown type, zero padding", () => {
  // Cut inside the CODE_OBJECT: its name and a space, no newline.
  const cut = memrayFile(RECORDS.slice(0, 14));
  assertEquals(dump(cut), `${HEADER}\nCONTEXT_SWITCH tid=2\nCODE_OBJECT `);
  // An unknown record type ends the dump.
  const unknown = memrayFile([...RECORDS.slice(0, 9), 9, ...RECORDS.slice(9)]);
  assertEquals(dump(unknown), `${HEADER}\nCONTEXT_SWITCH tid=2\nUNKNOWN RECORD TYPE 9\n`);
  // The zero padding of an uncompressed file is not data; a compressed file has none.
  const padded = memrayFile([...RECORDS.slice(0, 25), 0, 0, 0]);
  const lines = dump(padded).split("\n");
  assertEquals(lines.slice(-2), [
    "FRAME_PUSH code_object_id=1 instruction_offset=6 is_entry_frame=1",
    "",
  ]);
  // Trimming the zeros cuts a last record that ends in zero bytes, as memray's FileSource does.
  const zero_ended = memrayFile([...RECORDS.slice(0, 9), 0, 0]);
  assertEquals(dump(zero_ended), `${HEADER}\nCONTEXT_SWITCH `);
  assertEquals(dump(zero_ended, true), `${HEADER}\nCONTEXT_SWITCH tid=2\n`);
});
