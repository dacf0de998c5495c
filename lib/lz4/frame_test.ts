import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { decodeLz4Frame, encodeLz4Frame, isLz4Frame, Lz4Error } from "./frame.ts";
import { xxhash32 } from "./xxhash32.ts";

function sample(n: number, seed = 1): Uint8Array {
  // Half repetitive, half pseudo-random: exercises both compressed and raw blocks.
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (i >> 12) & 1 ? x >>> 24 : (i % 251) & 0x3f;
  }
  return out;
}

async function lz4Cli(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("/usr/bin/lz4", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  const done = child.output();
  await writer.write(input);
  await writer.close();
  const { code, stdout } = await done;
  if (code !== 0) throw new Error(`lz4 ${args.join(" ")} exited ${code}`);
  return stdout;
}

Deno.test("xxhash32 matches published vectors", () => {
  assertEquals(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assertEquals(xxhash32(new TextEncoder().encode("a")), 0x550d7456);
  assertEquals(xxhash32(new TextEncoder().encode("abc")), 0x32d153ff);
  assertEquals(
    xxhash32(new TextEncoder().encode("Nobody inspects the spammish repetition")),
    0xe2293b2f,
  );
});

Deno.test("encode then decode round-trips, multi-block", () => {
  for (const n of [0, 1, 100, 70_000, 300_000]) {
    const data = sample(n, n + 1);
    const frame = encodeLz4Frame(data, { block_size_bytes: 64 << 10 });
    assertEquals(isLz4Frame(frame), true);
    assertEquals(decodeLz4Frame(frame), data);
  }
});

Deno.test("the lz4 CLI decodes our frames", async () => {
  const data = sample(9 << 20, 7); // Three 4 MiB blocks.
  const frame = encodeLz4Frame(data);
  assertEquals(await lz4Cli(["-d", "-c"], frame), data);
});

Deno.test("we decode frames the lz4 CLI writes", async () => {
  const data = sample(600_000, 3);
  const variants = [
    ["-c", "--content-size"],
    ["-c", "--content-size", "-BD"], // Linked blocks.
    ["-c", "-B4"], // 64 KiB blocks, no content size.
    ["-c", "-BD", "-B4", "--no-frame-crc"],
    ["-c", "-BX", "-B4"], // Block checksums.
  ];
  for (const args of variants) {
    const frame = await lz4Cli(args, data);
    assertEquals(decodeLz4Frame(frame), data, args.join(" "));
  }
});

Deno.test("broken frames give one-line errors", () => {
  const frame = encodeLz4Frame(sample(100_000));
  const cases: Uint8Array[] = [
    new Uint8Array([4, 0x22, 0x4d, 0x18]),
    frame.subarray(0, 10),
    frame.subarray(0, frame.length - 10),
    new Uint8Array([1, 2, 3, 4, 5, 6]),
  ];
  const bad_hc = frame.slice();
  bad_hc[14] ^= 0xff;
  cases.push(bad_hc);
  for (const c of cases) {
    const e = assertThrows(() => decodeLz4Frame(c), Lz4Error);
    assertEquals(e.message.includes("\n"), false);
  }
});
