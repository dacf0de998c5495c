import assert from "node:assert/strict";
import { locateNativeLib, materializeFile, NATIVE_LIB_NAME } from "./native_lib.ts";
import { CliError } from "./cli/errors.ts";

async function withTemp(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "memray-native-lib-" });
  try {
    await body(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("MEMRAY_DENO_LIB wins over the local build", async () => {
  await withTemp(async (directory) => {
    await Deno.writeTextFile(`${directory}/env.so`, "env");
    await Deno.writeTextFile(`${directory}/local.so`, "local");
    const found = await locateNativeLib({
      envPath: `${directory}/env.so`,
      localPath: `${directory}/local.so`,
      cacheHome: `${directory}/cache`,
    });
    assert.equal(found, `${directory}/env.so`);
  });
});

Deno.test("a MEMRAY_DENO_LIB naming no file is an error, not a fallback", async () => {
  await withTemp(async (directory) => {
    await Deno.writeTextFile(`${directory}/local.so`, "local");
    await assert.rejects(
      locateNativeLib({
        envPath: `${directory}/missing.so`,
        localPath: `${directory}/local.so`,
        cacheHome: directory,
      }),
      (error: Error) =>
        error instanceof CliError && /MEMRAY_DENO_LIB names .*missing\.so/.test(error.message),
    );
  });
});

Deno.test("the local build is used as is", async () => {
  await withTemp(async (directory) => {
    await Deno.writeTextFile(`${directory}/local.so`, "local");
    const found = await locateNativeLib({
      localPath: `${directory}/local.so`,
      embeddedPath: `${directory}/embedded.so`,
      cacheHome: `${directory}/cache`,
    });
    assert.equal(found, `${directory}/local.so`);
  });
});

Deno.test("the embedded copy is extracted to a content-hashed cache path, once", async () => {
  await withTemp(async (directory) => {
    const bytes = new TextEncoder().encode("pretend ELF bytes");
    await Deno.writeFile(`${directory}/embedded.so`, bytes);
    const sources = {
      localPath: `${directory}/missing-local.so`,
      embeddedPath: `${directory}/embedded.so`,
      cacheHome: `${directory}/cache`,
    };
    const found = await locateNativeLib(sources);
    const hash = await sha256Hex(bytes);
    assert.equal(found, `${directory}/cache/memray-deno/${hash}/${NATIVE_LIB_NAME}`);
    assert.deepEqual(await Deno.readFile(found), bytes);
    const firstWrite = (await Deno.stat(found)).mtime;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await locateNativeLib(sources), found);
    assert.deepEqual((await Deno.stat(found)).mtime, firstWrite);
    const leftovers = [...Deno.readDirSync(`${directory}/cache/memray-deno/${hash}`)].map((e) =>
      e.name
    );
    assert.deepEqual(leftovers, [NATIVE_LIB_NAME]);
  });
});

Deno.test("a damaged cached copy is replaced", async () => {
  await withTemp(async (directory) => {
    const bytes = new TextEncoder().encode("the real library");
    await Deno.writeFile(`${directory}/embedded.so`, bytes);
    const first = await materializeFile(`${directory}/embedded.so`, "lib.so", directory);
    await Deno.writeTextFile(first, "cut");
    const second = await materializeFile(`${directory}/embedded.so`, "lib.so", directory);
    assert.equal(second, first);
    assert.deepEqual(await Deno.readFile(second), bytes);
  });
});

Deno.test("no library anywhere says to run scripts/setup.sh", async () => {
  await withTemp(async (directory) => {
    await assert.rejects(
      locateNativeLib({ localPath: `${directory}/none.so`, cacheHome: directory }),
      (error: Error) => error instanceof CliError && /run scripts\/setup\.sh/.test(error.message),
    );
  });
});
