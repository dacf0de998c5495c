import assert from "node:assert/strict";
import { loadReportLib, lz4CompressFrame, lz4DecompressFrame } from "./ffi.ts";
import { defaultNativeLibSources, REPORT_LIB } from "./native_lib.ts";
import { CliError } from "./cli/errors.ts";

const lib = await loadReportLib();

Deno.test("the report library is found through MEMRAY_DENO_REPORT_LIB", () => {
  const saved = Deno.env.get(REPORT_LIB.envName);
  try {
    Deno.env.set(REPORT_LIB.envName, "/nowhere/libmemrayd_report.so");
    const sources = defaultNativeLibSources(REPORT_LIB);
    assert.equal(sources.envPath, "/nowhere/libmemrayd_report.so");
    assert.match(sources.localPath ?? "", /\/zig-out\/lib\/libmemrayd_report\.so$/);
  } finally {
    if (saved === undefined) Deno.env.delete(REPORT_LIB.envName);
    else Deno.env.set(REPORT_LIB.envName, saved);
  }
  // The engine's own lookup is unaffected.
  assert.match(defaultNativeLibSources().localPath ?? "", /\/libmemrayd\.so$/);
});

Deno.test("lookup: env path wins, a missing env path is an error, embedded copies are extracted", async () => {
  const directory = await Deno.makeTempDir({ prefix: "memray-ffi-lookup-" });
  try {
    const copy = `${directory}/copy.so`;
    await Deno.copyFile(lib.path, copy);
    const fromEnv = await loadReportLib({
      sources: { envPath: copy, localPath: lib.path, cacheHome: directory },
    });
    assert.equal(fromEnv.path, copy);
    assert.deepEqual(
      lz4DecompressFrame(lz4CompressFrame(new Uint8Array(100), { lib: fromEnv }), {
        lib: fromEnv,
      }),
      new Uint8Array(100),
    );
    fromEnv.close();
    await assert.rejects(
      loadReportLib({ sources: { envPath: `${directory}/missing.so`, cacheHome: directory } }),
      (e: Error) => e instanceof CliError && /MEMRAY_DENO_REPORT_LIB names/.test(e.message),
    );
    const embedded = await loadReportLib({
      sources: { localPath: `${directory}/none.so`, embeddedPath: copy, cacheHome: directory },
    });
    assert.match(embedded.path, /\/memray-deno\/[0-9a-f]{64}\/libmemrayd_report\.so$/);
    embedded.close();
    await assert.rejects(
      loadReportLib({ sources: { cacheHome: directory } }),
      (e: Error) =>
        e instanceof CliError && /libmemrayd_report\.so: run scripts\/setup\.sh/.test(e.message),
    );
    await Deno.writeTextFile(`${directory}/bad.so`, "not an ELF file");
    await assert.rejects(
      loadReportLib({ sources: { envPath: `${directory}/bad.so`, cacheHome: directory } }),
      (e: Error) => e instanceof CliError && /Cannot load the report library/.test(e.message),
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
