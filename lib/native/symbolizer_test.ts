import { assert_, assertEquals } from "../../tests/support/assert.ts";
import { exists } from "../../tests/support/files.ts";
import type { ModuleMap } from "../capture/records.ts";
import { loadReportLib } from "../ffi.ts";
import { type NativeFrame, Symbolizer, symbolSupportWarning } from "./symbolizer.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const ZIG = `${ROOT}/.tools/bin/zig`;
const FIXTURES = `${ROOT}/tests/native_symbols`;
const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

async function run(command: string, args: string[], cwd?: string): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return text;
}

/** The 1-based line of the source line holding `MARK <name>`. */
async function markLine(file: string, name: string): Promise<number> {
  const lines = (await Deno.readTextFile(`${FIXTURES}/${file}`)).split("\n");
  const index = lines.findIndex((line) => line.includes(`MARK ${name}`));
  assert_(index >= 0, `no MARK ${name} in ${file}`);
  return index + 1;
}

async function buildId(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const notes = await run("readelf", ["-n", path]);
  const hex = /Build ID: ([0-9a-f]+)/.exec(notes)?.[1];
  assert_(hex !== undefined, `${path} has no build-id`);
  return Uint8Array.from(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

async function symbolAddress(path: string, name: string, dynamic = false): Promise<number> {
  const listing = await run("nm", dynamic ? ["-D", path] : [path]);
  const line = listing.split("\n").find((entry) => entry.split(" ")[2]?.split("@")[0] === name);
  assert_(line !== undefined, `${name} is not in ${path}`);
  return parseInt(line.split(" ")[0], 16);
}

function moduleAt(path: string, build_id = new Uint8Array()): ModuleMap {
  return { path, load_base: 0, build_id, segments: [] };
}

interface Fixture {
  dir: string;
  lib: string;
  prog: string;
  libOffset: number;
  mainOffset: number;
  buildId: Uint8Array<ArrayBuffer>;
}

let fixture: Promise<Fixture> | undefined;

/** Builds the fixture library and PIE program (zig cc -g -O1) and its stripped variants, once. */
function buildFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "memrayd-symbolizer-" });
    await run(ZIG, [
      "cc",
      "-g",
      "-O1",
      "-fPIC",
      "-c",
      `${FIXTURES}/symbolizer_lib.c`,
      "-o",
      "lib.o",
    ], dir);
    await run(ZIG, [
      "c++",
      "-g",
      "-O1",
      "-fPIC",
      "-c",
      `${FIXTURES}/symbolizer_widget.cpp`,
      "-o",
      "w.o",
    ], dir);
    await run(
      ZIG,
      ["cc", "-shared", "-Wl,--build-id=sha1", "lib.o", "w.o", "-o", "libfix.so"],
      dir,
    );
    await run(ZIG, [
      "cc",
      "-g",
      "-O1",
      "-fPIE",
      "-pie",
      "-Wl,--build-id=sha1",
      `${FIXTURES}/symbolizer_prog.c`,
      "-L.",
      "-lfix",
      `-Wl,-rpath,${dir}`,
      "-o",
      "prog",
    ], dir);
    const printed = await run(`${dir}/prog`, [], dir);
    const offsets = Object.fromEntries(
      printed.trim().split("\n").map((line) => [line.split(" ")[0], Number(line.split(" ")[2])]),
    );
    const id = await buildId(`${dir}/libfix.so`);
    const hex = Array.from(id, (byte) => byte.toString(16).padStart(2, "0")).join("");
    // A separate debug file, a fully stripped copy, a debug dir by build-id, and a debuglink.
    await run("objcopy", ["--only-keep-debug", "libfix.so", "libfix.debug"], dir);
    for (const sub of ["bare", "dbg/.build-id/" + hex.slice(0, 2), "link/.debug"]) {
      await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    }
    await run("strip", ["--strip-all", "-o", "bare/libfix.so", "libfix.so"], dir);
    await Deno.copyFile(
      `${dir}/libfix.debug`,
      `${dir}/dbg/.build-id/${hex.slice(0, 2)}/${hex.slice(2)}.debug`,
    );
    await Deno.copyFile(`${dir}/libfix.debug`, `${dir}/link/.debug/libfix.debug`);
    await run(
      "objcopy",
      ["--add-gnu-debuglink=libfix.debug", "bare/libfix.so", "link/libfix.so"],
      dir,
    );
    return {
      dir,
      lib: `${dir}/libfix.so`,
      prog: `${dir}/prog`,
      libOffset: offsets.lib,
      mainOffset: offsets.main,
      buildId: id,
    };
  })();
  return fixture;
}

function brief(frames: NativeFrame[]) {
  return frames.map((f) => ({
    function: f.function,
    file: f.file.split("/").pop(),
    line: f.line,
    inlined: f.inlined,
  }));
}

async function expectedLibFrames() {
  return [
    {
      function: "inner",
      file: "symbolizer_lib.c",
      line: await markLine("symbolizer_lib.c", "inner_call"),
      inlined: true,
    },
    {
      function: "fix_outer",
      file: "symbolizer_lib.c",
      line: await markLine("symbolizer_lib.c", "outer_call"),
      inlined: false,
    },
  ];
}

Deno.test("symbolizer: a return address in a shared library expands its inlined call", async () => {
  const f = await buildFixture();
  const symbolizer = await Symbolizer.open();
  try {
    const module = moduleAt(f.lib, f.buildId);
    assertEquals(brief(symbolizer.symbolize(module, f.libOffset)), await expectedLibFrames());
    assertEquals(symbolizer.symbolize(module, f.libOffset)[0].module, f.lib);
    const info = symbolizer.moduleInfo(module);
    assertEquals([info.has_symbols, info.has_debug_info, info.debug_file], [true, true, undefined]);
    assertEquals(symbolSupportWarning("libfix.so", info), undefined);
  } finally {
    symbolizer.close();
  }
});

Deno.test("symbolizer: a PIE executable's own frame, and a demangled C++ method", async () => {
  const f = await buildFixture();
  const symbolizer = await Symbolizer.open();
  try {
    assertEquals(brief(symbolizer.symbolize(moduleAt(f.prog), f.mainOffset)), [
      {
        function: "main",
        file: "symbolizer_prog.c",
        line: await markLine("symbolizer_prog.c", "main_call"),
        inlined: false,
      },
    ]);
    const grow = await symbolAddress(f.lib, "_ZN2ns6Widget4growEi");
    const [frame] = symbolizer.symbolize(moduleAt(f.lib), grow + 4, { is_return_address: false });
    assertEquals(frame.function, "ns::Widget::grow(int)");
    assertEquals(frame.file.endsWith("/symbolizer_widget.cpp"), true);
    const body = await markLine("symbolizer_widget.cpp", "grow_body");
    assert_(frame.line >= body - 1 && frame.line <= body, `line ${frame.line} is not near ${body}`);
  } finally {
    symbolizer.close();
  }
});

Deno.test("symbolizer: a stripped module gets names only, then lines from --debug-dir", async () => {
  const f = await buildFixture();
  const bare = moduleAt(`${f.dir}/bare/libfix.so`, f.buildId);
  const plain = await Symbolizer.open();
  try {
    assertEquals(brief(plain.symbolize(bare, f.libOffset)), [
      { function: "fix_outer", file: "", line: 0, inlined: false },
    ]);
    assertEquals(plain.moduleInfo(bare).has_debug_info, false);
    assertEquals(plain.moduleInfo(bare).has_symbols, true);
    assertEquals(
      symbolSupportWarning("libfix.so", plain.moduleInfo(bare)),
      "No debug information was found for libfix.so: its native frames will have function " +
        "names but no file and line numbers",
    );
    // A debuginfod download registered at run time reopens the module with its DWARF.
    plain.addDebugFile(f.buildId, `${f.dir}/libfix.debug`);
    assertEquals(brief(plain.symbolize(bare, f.libOffset)), await expectedLibFrames());
  } finally {
    plain.close();
  }
  const withDir = await Symbolizer.open({ debug_dirs: [`${f.dir}/dbg`] });
  try {
    assertEquals(brief(withDir.symbolize(bare, f.libOffset)), await expectedLibFrames());
    assert_(withDir.moduleInfo(bare).debug_file?.startsWith(`${f.dir}/dbg/.build-id/`));
    const linked = moduleAt(`${f.dir}/link/libfix.so`, f.buildId);
    assertEquals(brief(withDir.symbolize(linked, f.libOffset)), await expectedLibFrames());
  } finally {
    withDir.close();
  }
});

Deno.test("symbolizer: .gnu_debuglink finds the debug file in .debug/", async () => {
  const f = await buildFixture();
  const symbolizer = await Symbolizer.open();
  try {
    const linked = moduleAt(`${f.dir}/link/libfix.so`);
    assertEquals(brief(symbolizer.symbolize(linked, f.libOffset)), await expectedLibFrames());
    assertEquals(symbolizer.moduleInfo(linked).debug_file, `${f.dir}/link/.debug/libfix.debug`);
  } finally {
    symbolizer.close();
  }
});

Deno.test({
  name: "symbolizer: libc gets files and lines from libc6-dbg",
  ignore: !(await exists(LIBC)),
  fn: async () => {
    const symbolizer = await Symbolizer.open();
    try {
      const libc = moduleAt(LIBC);
      const info = symbolizer.moduleInfo(libc);
      assertEquals(info.has_symbols, true);
      assertEquals(info.has_debug_info, true, "is libc6-dbg installed?");
      const malloc = await symbolAddress(LIBC, "malloc", true);
      const frames = symbolizer.symbolize(libc, malloc + 16, { is_return_address: false });
      const outer = frames[frames.length - 1];
      assert_(outer.function.endsWith("libc_malloc"), outer.function);
      assert_(frames[0].file.endsWith("/malloc.c"), frames[0].file);
      assert_(frames[0].line > 0);
    } finally {
      symbolizer.close();
    }
  },
});

Deno.test("symbolizer: corrupt and missing modules give unknown frames and a note", async () => {
  const f = await buildFixture();
  const bytes = await Deno.readFile(f.lib);
  const garbage = `${f.dir}/garbage.so`;
  await Deno.writeFile(garbage, new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff));
  const truncated = `${f.dir}/truncated.so`;
  await Deno.writeFile(truncated, bytes.subarray(0, 3000));
  // Section headers point past the end, and damaged DWARF (every 13th byte of the tail flipped).
  const damaged = bytes.slice();
  for (let i = bytes.length - 2400; i < bytes.length; i += 13) damaged[i] ^= 0x5a;
  const damagedPath = `${f.dir}/damaged.so`;
  await Deno.writeFile(damagedPath, damaged);
  const symbolizer = await Symbolizer.open();
  try {
    for (const path of [garbage, truncated, `${f.dir}/missing.so`]) {
      const frames = symbolizer.symbolize(moduleAt(path), f.libOffset);
      assertEquals(brief(frames), [{ function: "<unknown>", file: "", line: 0, inlined: false }]);
      const info = symbolizer.moduleInfo(moduleAt(path));
      assert_(info.note?.includes(path));
      assert_(
        symbolSupportWarning(path, info)?.startsWith(`No symbol information was found for ${path}`),
      );
    }
    // Whatever survives of a damaged file, the answer is frames, never a crash.
    for (let offset = 0; offset < 0x2000; offset += 7) {
      assert_(symbolizer.symbolize(moduleAt(damagedPath), offset).length >= 1);
    }
  } finally {
    symbolizer.close();
  }
});

Deno.test("symbolizer: a batch equals single look-ups, bad offsets throw", async () => {
  await loadReportLib();
  const symbolizer = await Symbolizer.open();
  try {
    const libc = moduleAt(LIBC);
    const offsets = Array.from({ length: 20_000 }, (_, i) => 0x28000 + i * 61);
    const batch = symbolizer.symbolizeMany(libc, offsets);
    assertEquals(batch.length, offsets.length);
    for (let i = 0; i < offsets.length; i += 997) {
      assertEquals(symbolizer.symbolize(libc, offsets[i]), batch[i]);
    }
    assert_(batch.some((frames) => frames.length > 1), "libc has inlined frames");
    let threw = false;
    try {
      symbolizer.symbolize(libc, -1);
    } catch {
      threw = true;
    }
    assertEquals(threw, true);
  } finally {
    symbolizer.close();
  }
});
