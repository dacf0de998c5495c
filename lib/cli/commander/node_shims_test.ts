import assert from "node:assert/strict";
import {
  basename,
  EventEmitter,
  extname,
  OutputStream,
  stripVTControlCharacters,
} from "./node_shims.ts";

Deno.test("EventEmitter calls listeners in order with the emitter as this", () => {
  const emitter = new EventEmitter();
  const calls: string[] = [];
  emitter.on("x", function (this: unknown, value) {
    assert.equal(this, emitter);
    calls.push(`a${value}`);
  });
  emitter.once("x", (value) => calls.push(`b${value}`));
  assert.equal(emitter.listenerCount("x"), 2);
  assert.equal(emitter.emit("x", 1), true);
  assert.equal(emitter.emit("x", 2), true);
  assert.equal(emitter.emit("y"), false);
  assert.deepEqual(calls, ["a1", "b1", "a2"]);
  assert.equal(emitter.listenerCount("x"), 1);
  emitter.off("x", emitter.listeners("x")[0]);
  assert.equal(emitter.listenerCount("x"), 0);
});

Deno.test("stripVTControlCharacters removes colour and cursor sequences only", () => {
  assert.equal(
    stripVTControlCharacters("\x1b[1mbold\x1b[22m \x1b[31;1mred\x1b[0m\x1b[2K"),
    "bold red",
  );
  assert.equal(stripVTControlCharacters("a [b] c"), "a [b] c");
});

Deno.test("basename and extname behave as node:path's", () => {
  assert.equal(basename("/a/b/main.ts"), "main.ts");
  assert.equal(basename("/a/b/main.ts", ".ts"), "main");
  assert.equal(basename("dir/"), "dir");
  assert.equal(extname("/a/b.c/main.test.ts"), ".ts");
  assert.equal(extname("/a/.profile"), "");
  assert.equal(extname("/a/noext"), "");
});

Deno.test("OutputStream writes everything, across short writes", () => {
  const written: number[] = [];
  const stream = new OutputStream({
    writeSync: (data) => {
      const count = Math.min(3, data.length);
      written.push(...data.subarray(0, count));
      return count;
    },
    isTerminal: () => false,
  });
  assert.equal(stream.write("héllo wörld"), true);
  assert.equal(new TextDecoder().decode(new Uint8Array(written)), "héllo wörld");
  assert.equal(stream.isTTY, false);
  assert.equal(stream.columns, undefined);
  assert.equal(stream.hasColors(), false);
});
