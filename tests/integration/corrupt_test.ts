/**
 * Damaged captures given to the reports: a real capture cut at several points, and garbage.
 * Every report refuses them with exactly one line on stderr and exit status 1, never a stack
 * trace. A live (uncompressed) capture cut inside its chunks is what a crash leaves, which the
 * format says is readable: those cuts must still be reported on, with fewer records.
 */
import assert from "node:assert/strict";
import { readCaptureBytes } from "../../lib/capture/reader.ts";
import {
  expectExit,
  type Finished,
  helperEnv,
  memray,
  PRELUDE,
  PYTHON,
  withTempDir,
} from "./helpers.ts";

const REPORTS: string[][] = [["stats"], ["summary"], ["parse"]];

const SOURCE = `${PRELUDE}
import threading
def work():
    for _ in range(200):
        lib.h_free(lib.h_malloc(3001))
t = threading.Thread(target=work, name="w")
t.start()
work()
t.join()
`;

/** Runs `tasks` with at most `limit` at a time (2 cores: more only adds contention). */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** A problem with how a report handled a damaged file, or undefined when it was right. */
function refusalProblem(result: Finished): string | undefined {
  const lines = result.err.split("\n").filter((line) => line !== "");
  if (result.code !== 1) return `exit ${result.code}, expected 1 (stderr: ${result.err.trim()})`;
  if (lines.length !== 1) return `${lines.length} lines on stderr:\n${result.err}`;
  if (!lines[0].startsWith("memray: ")) return `stderr is not "memray: ...": ${lines[0]}`;
  if (/\bat .*:\d+:\d+/.test(result.err)) return `a stack trace: ${result.err}`;
  return undefined;
}

function setU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

Deno.test("truncated and garbage captures: one stderr line, exit 1, from every report", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/make.py`, SOURCE);
    const env = await helperEnv();
    const [packed_run, live_run] = await Promise.all([
      memray(["run", "-q", "-o", `${dir}/good.bin`, "--python", PYTHON, "make.py"], {
        cwd: dir,
        env,
      }),
      memray(
        ["run", "-q", "--no-compress", "-o", `${dir}/live.bin`, "--python", PYTHON, "make.py"],
        {
          cwd: dir,
          env,
        },
      ),
    ]);
    expectExit(packed_run, 0, "memray run");
    expectExit(live_run, 0, "memray run --no-compress");
    const compressed = await Deno.readFile(`${dir}/good.bin`);
    const live = await Deno.readFile(`${dir}/live.bin`);
    const live_capture = readCaptureBytes(live, "live.bin");
    assert.equal(readCaptureBytes(compressed, "good.bin").compressed, true);
    const header_bytes = live_capture.header.header_size_bytes;
    const chunk_bytes = live_capture.header.chunk_size_bytes;
    assert.ok(live.length > header_bytes + 24, "the live capture has chunks");

    const damaged: Record<string, Uint8Array> = {
      "empty": new Uint8Array(0),
      "garbage": crypto.getRandomValues(new Uint8Array(5000)),
      "text": new TextEncoder().encode("this is not a capture\n".repeat(300)),
      "magic only": live.slice(0, 8),
      "live cut in the fixed header": live.slice(0, 40),
      "live cut in the metadata": live.slice(0, 100),
      "live cut before the first chunk": live.slice(0, header_bytes - 1),
      "bad format version": setU32(live, 8, 99),
      "bad header size": setU32(live, 12, 1000),
      "metadata longer than the header": setU32(live, 64, header_bytes),
      "chunk used_bytes beyond the chunk": setU32(live, header_bytes, chunk_bytes),
      "chunk index gap": setU32(live, header_bytes + 16, 7),
      "lz4 magic only": compressed.slice(0, 4),
      "lz4 cut in the frame header": compressed.slice(0, 6),
      "lz4 cut in the first block": compressed.slice(0, Math.min(40, compressed.length - 1)),
      "lz4 cut in the middle": compressed.slice(0, compressed.length >> 1),
      "lz4 cut before the end mark": compressed.slice(0, compressed.length - 4),
      "lz4 magic then garbage": new Uint8Array([
        0x04,
        0x22,
        0x4d,
        0x18,
        ...crypto.getRandomValues(new Uint8Array(2000)),
      ]),
    };
    const tasks: (() => Promise<string | undefined>)[] = [];
    for (const [name, bytes] of Object.entries(damaged)) {
      const path = `${dir}/${name.replaceAll(" ", "_")}.bin`;
      await Deno.writeFile(path, bytes);
      for (const report of REPORTS) {
        tasks.push(async () => {
          const problem = refusalProblem(await memray([...report, path], { cwd: dir }));
          return problem && `${report.join(" ")} on "${name}": ${problem}`;
        });
      }
    }
    const problems = (await pooled(tasks, 4)).filter((p) => p !== undefined);
    assert.deepEqual(problems, [], problems.join("\n"));
  });
});

Deno.test("a live capture cut inside its chunks (as a crash leaves it) is still reported", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/make.py`, SOURCE);
    const run = await memray(
      ["run", "-q", "--no-compress", "-o", `${dir}/live.bin`, "--python", PYTHON, "make.py"],
      { cwd: dir, env: await helperEnv() },
    );
    expectExit(run, 0, "memray run --no-compress");
    const live = await Deno.readFile(`${dir}/live.bin`);
    const full = readCaptureBytes(live, "live.bin");
    assert.equal(full.cut_off, false);
    const start = full.header.header_size_bytes;
    const first_chunk_used = new DataView(live.buffer).getUint32(start, true);
    const cuts = [
      start + 10,
      start + 24 + (first_chunk_used >> 1),
      start + 24 + first_chunk_used - 1,
    ];
    const tasks = cuts.map((cut) => async () => {
      const path = `${dir}/cut_${cut}.bin`;
      await Deno.writeFile(path, live.slice(0, cut));
      const cut_capture = readCaptureBytes(live.slice(0, cut), path);
      assert.ok(cut_capture.events.count < full.events.count, `cut at ${cut}: fewer events`);
      for (let i = 0; i < cut_capture.events.count; i++) {
        assert.equal(cut_capture.events.seq[i] <= full.header.seq_end, true);
      }
      for (const report of REPORTS) {
        const result = await memray([...report, path], { cwd: dir });
        expectExit(result, 0, `${report.join(" ")} on a capture cut at ${cut}`);
      }
    });
    await pooled(tasks, 3);
  });
});
