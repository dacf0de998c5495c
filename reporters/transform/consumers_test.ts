/**
 * Our transforms read by their consumers: `go tool pprof`, gprof2dot (PyPI) and speedscope's JSON
 * schema (npm). Each case is skipped, saying why, when its consumer cannot be had here. The input
 * is a real capture of a Python program made by `main.ts run` (the fixed fake one without engine).
 */
import { assertEquals } from "../../tests/support/assert.ts";
import { buildFakeCapture } from "../../tests/support/fake_capture.ts";
import { readCapture } from "../../lib/capture/reader.ts";
import { selectSnapshot } from "../../lib/analysis/snapshot.ts";
import {
  exists,
  PROJECT_ROOT,
  REAL_ENGINE,
  runMemray,
  runProgram,
} from "../../tests/cli/helpers.ts";
import { runTransform } from "./run_transform.ts";
import { checkSchema } from "./testing/json_schema.ts";

const GO = "/usr/local/go/bin/go";
const PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3.11";
const TOOLS = `${PROJECT_ROOT}/.tools`;

const PROGRAM = `
import threading
def build(n):
    return [bytearray(1000) for _ in range(n)]
def worker():
    global kept_by_worker
    kept_by_worker = build(50)
t = threading.Thread(target=worker, name="worker-1"); t.start(); t.join()
kept = build(100)
temporary = build(200); del temporary
`;

/** A real capture when the engine is built, else the fixed fake one. */
async function capture(dir: string): Promise<string> {
  const path = `${dir}/memray-app.py.bin`;
  if (await exists(REAL_ENGINE)) {
    await Deno.writeTextFile(`${dir}/app.py`, PROGRAM);
    const r = await runMemray(["run", "-q", "-o", path, "app.py"], { cwd: dir });
    if (r.code === 0) return path;
    console.log(`note: memray run failed (${r.stderr.trim()}); using the fake capture`);
  } else console.log(`note: ${REAL_ENGINE} is missing; using the fake capture`);
  await Deno.writeFile(path, buildFakeCapture().finish());
  return path;
}

async function withCapture(body: (dir: string, path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "memray-consumers-" }));
  try {
    await body(dir, await capture(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const quiet = { stdout: () => {}, stdoutIsTerminal: false, onPath: () => Promise.resolve(true) };

Deno.test("go tool pprof reads our pprof; its totals are ours", async () => {
  if (!(await exists(GO))) return console.log(`skipped: no Go toolchain at ${GO}`);
  await withCapture(async (dir, path) => {
    const c = await readCapture(path);
    for (const leaks of [false, true]) {
      const output = await runTransform({
        ...quiet,
        capturePath: path,
        format: "pprof",
        leaks,
        force: true,
      });
      const snapshot = selectSnapshot(c, {
        mode: leaks ? "leaks" : "high_water_mark",
        merge_threads: true,
      });
      let inuse = 0;
      for (const r of snapshot.records) inuse += r.size_bytes;
      let alloc = 0;
      for (let i = 0; i < c.events.count; i++) {
        if (c.events.kind[i] <= 0x0c) alloc += c.events.size[i];
      }
      for (const [index, want] of [["inuse_space", inuse], ["alloc_space", alloc]] as const) {
        const r = await runProgram(GO, [
          "tool",
          "pprof",
          "-top",
          "-unit=B",
          `-sample_index=${index}`,
          output,
        ], { cwd: dir });
        assertEquals(r.code, 0, r.stderr);
        const m = /of (\d+)B total/.exec(r.stdout);
        assertEquals(m?.[1], String(want), r.stdout);
      }
      // The leaf functions pprof lists are the program's.
      const top = await runProgram(GO, ["tool", "pprof", "-top", "-unit=B", output], { cwd: dir });
      assertEquals(/\bbuild\b|<listcomp>/.test(top.stdout), true, top.stdout);
    }
  });
});

async function gprof2dot(): Promise<string | undefined> {
  const dir = `${TOOLS}/gprof2dot`;
  if (await exists(`${dir}/gprof2dot.py`)) return dir;
  const r = await runProgram(PYTHON, ["-m", "pip", "install", "-q", "--target", dir, "gprof2dot"]);
  return r.code === 0 ? dir : undefined;
}

Deno.test("gprof2dot (PyPI) reads our JSON and draws every function", async () => {
  const dir = await gprof2dot();
  if (dir === undefined) return console.log("skipped: gprof2dot cannot be installed from PyPI");
  await withCapture(async (tmp, path) => {
    const output = await runTransform({
      ...quiet,
      capturePath: path,
      format: "gprof2dot",
      force: true,
    });
    const r = await runProgram(PYTHON, [
      "-m",
      "gprof2dot",
      "-f",
      "json",
      "-n",
      "0",
      "-e",
      "0",
      output,
    ], {
      cwd: tmp,
      env: { PYTHONPATH: dir },
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.startsWith("digraph {"), true);
    const doc = JSON.parse(await Deno.readTextFile(output));
    for (const f of doc.functions) {
      const name = f.name.replaceAll("<", "\\<").replaceAll(">", "\\>");
      assertEquals(r.stdout.includes(f.name) || r.stdout.includes(name), true, `${f.name} missing`);
    }
  });
});

async function speedscopeSchema(): Promise<Record<string, unknown> | undefined> {
  const dir = `${TOOLS}/speedscope`;
  const file = `${dir}/package/dist/release/file-format-schema.json`;
  if (!(await exists(file))) {
    await Deno.mkdir(dir, { recursive: true });
    const pack = await runProgram("npm", ["pack", "--silent", "speedscope@1.25.0"], { cwd: dir });
    if (pack.code !== 0) return undefined;
    const tar = await runProgram("tar", ["xzf", pack.stdout.trim()], { cwd: dir });
    if (tar.code !== 0) return undefined;
  }
  return JSON.parse(await Deno.readTextFile(file));
}

Deno.test("speedscope files satisfy speedscope's own schema and its index rules", async () => {
  const schema = await speedscopeSchema();
  if (schema === undefined) return console.log("skipped: npm cannot fetch speedscope's schema");
  await withCapture(async (_dir, path) => {
    for (const leaks of [false, true]) {
      const output = await runTransform({
        ...quiet,
        capturePath: path,
        format: "speedscope",
        leaks,
        force: true,
      });
      const doc = JSON.parse(await Deno.readTextFile(output));
      assertEquals(checkSchema(schema, doc), []);
      // What the schema cannot say: indices in range, one weight per sample, end = sum.
      for (const p of doc.profiles) {
        assertEquals(p.samples.length, p.weights.length);
        assertEquals(p.endValue, p.weights.reduce((a: number, b: number) => a + b, 0));
        for (const s of p.samples) {
          for (const i of s) assertEquals(i < doc.shared.frames.length, true);
        }
      }
    }
    // The checker itself rejects a broken document.
    assertEquals(checkSchema(schema, { shared: { frames: [{}] }, profiles: 1 }).length > 0, true);
  });
});
