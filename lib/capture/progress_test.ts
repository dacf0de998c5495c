import { assertEquals } from "../../tests/support/assert.ts";
import { ProgressBar } from "./progress.ts";

function fake(enabled: boolean) {
  let now = 0;
  const out: string[] = [];
  const bar = new ProgressBar({
    label: "Reading",
    enabled,
    now: () => now,
    write: (t) => out.push(t),
  });
  return { bar, out, at: (ms: number) => (now = ms) };
}

Deno.test("the progress bar stays silent for the first second", () => {
  const { bar, out, at } = fake(true);
  at(999);
  bar.update(0.5);
  bar.done();
  assertEquals(out, []);
});

Deno.test("after a second the bar draws, then erases itself", () => {
  const { bar, out, at } = fake(true);
  at(1500);
  bar.update(0.5);
  at(1550);
  bar.update(0.6); // Within 100 ms of the last draw: skipped.
  bar.done();
  assertEquals(out.length, 2);
  assertEquals(out[0].startsWith("\rReading "), true);
  assertEquals(out[0].includes(" 50% 1.5s"), true);
  assertEquals(out[1], "\r\x1b[2K");
});

Deno.test("no bar when stderr is not a terminal", () => {
  const { bar, out, at } = fake(false);
  at(5000);
  bar.update(0.9);
  bar.done();
  assertEquals(out, []);
});
