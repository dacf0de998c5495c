import { assertEquals } from "../../tests/support/assert.ts";
import { readCaptureBytes } from "../capture/reader.ts";
import { diffPair } from "../../reporters/testing/diff_pair.ts";
import { diffCaptures, diffFrame } from "./diff.ts";
import type { Capture } from "../capture/reader.ts";
import type { MergedFrame } from "./merged_stacks.ts";
import { type StackFrames, StackResolver } from "./stack_resolver.ts";

const key = (l: { stack: { function: string }[] }) => l.stack.map((f) => f.function).join(">");

Deno.test("diff at the peak matches locations by frames, not ids", () => {
  const pair = diffPair();
  const base = readCaptureBytes(pair.base, "base.bin");
  const now = readCaptureBytes(pair.now, "new.bin");
  const d = diffCaptures(base, now, "high_water_mark");
  assertEquals(d.locations.map((l) => [key(l), l.status, l.delta_bytes, l.delta_count]), [
    ["<module>>build", "grown", 1_000_000, 1],
    ["<module>>fresh", "added", 700_000, 1],
    ["run", "unchanged", 0, 0],
    ["<module>>cache", "shrunk", -400_000, 0],
    ["<module>>load", "removed", -1_000_000, -1],
  ]);
  assertEquals(d.totals, {
    delta_bytes: 300_000,
    delta_count: 1,
    added: 1,
    removed: 1,
    grown: 1,
    shrunk: 1,
    unchanged: 1,
  });
  assertEquals([d.base.total_bytes, d.base.heap_bytes, d.base.total_count], [
    3_600_000,
    3_600_000,
    4,
  ]);
  assertEquals([d.new.total_bytes, d.new.total_count, d.new.locations], [3_900_000, 5, 4]);
  // The frames of a stack, root first, without the launcher.
  assertEquals(d.locations[0].stack, [
    { function: "<module>", filename: "/work/app/app.py", lineno: 5, kind: "python" },
    { function: "build", filename: "/work/app/app.py", lineno: 13, kind: "python" },
  ]);
  // Diffing a capture with itself changes nothing.
  const same = diffCaptures(base, base, "high_water_mark");
  assertEquals(same.totals.unchanged, same.locations.length);
  assertEquals(same.totals.delta_bytes, 0);
});

Deno.test("diff of leaks compares what was live at the end", () => {
  const pair = diffPair();
  const d = diffCaptures(
    readCaptureBytes(pair.base, "base.bin"),
    readCaptureBytes(pair.now, "new.bin"),
    "leaks",
  );
  const by = new Map(d.locations.map((l) => [key(l), l]));
  // load was freed before the end of the base run: not a location of either side.
  assertEquals(by.has("<module>>load"), false);
  assertEquals(by.get("<module>>build")!.base_bytes, 2_000_000);
  assertEquals(by.get("<module>>build")!.new_bytes, 1_500_000);
  assertEquals(by.get("<module>>build")!.status, "shrunk");
  assertEquals(d.base.total_bytes, 2_600_000);
  assertEquals(d.new.total_bytes, 2_400_000);
  assertEquals(d.totals.delta_bytes, d.new.total_bytes - d.base.total_bytes);
});

/** A capture's Python stacks under native frames (leaf first), as a `--native` resolver's. */
function underNative(capture: Capture, native: MergedFrame[]): StackFrames {
  const python = StackResolver.python(capture);
  return {
    frames: (py, nat, thread) => [...native, ...python.frames(py, nat, thread)],
  };
}

Deno.test("diff frames carry the resolver's kind; a native frame without a file is its module", () => {
  const pair = diffPair();
  const base = readCaptureBytes(pair.base, "base.bin");
  const now = readCaptureBytes(pair.now, "new.bin");
  const leaf: MergedFrame[] = [
    { kind: "native", function: "bar", file: "", line: 0, module: "/ext/_ext.so" },
    { kind: "native", function: "foo", file: "/src/ext.c", line: 12, module: "/ext/_ext.so" },
  ];
  const d = diffCaptures(base, now, "high_water_mark", {
    base: underNative(base, leaf),
    now: underNative(now, leaf),
  });
  const build = d.locations.find((l) => key(l).startsWith("<module>>build"))!;
  assertEquals(build.stack.slice(-3), [
    { function: "build", filename: "/work/app/app.py", lineno: 13, kind: "python" },
    { function: "foo", filename: "/src/ext.c", lineno: 12, kind: "native" },
    { function: "bar", filename: "/ext/_ext.so", lineno: 0, kind: "native" },
  ]);
  // The same frames in both captures: matched as before, only deeper.
  assertEquals(d.totals.grown + d.totals.unchanged + d.totals.shrunk, 3);
  // A native frame with neither file nor module keeps its empty name, still native.
  assertEquals(diffFrame({ kind: "native", function: "f", file: "", line: 0 }), {
    function: "f",
    filename: "",
    lineno: 0,
    kind: "native",
  });
});
