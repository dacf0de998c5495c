/**
 * `--native` captures of the C extension fixture (tests/native_symbols/native_fixtures.ts) for
 * the end-to-end report tests: ours, and memray 1.20's own.
 */
import { expectExit, memray, runProcess } from "../integration/helpers.ts";
import { installExtension, SCRIPT } from "./native_fixtures.ts";

/** The interpreter our captures run. */
export const PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12";
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
/** memray 1.20 (scripts/setup.sh) and the interpreter of its virtual environment. */
export const MEMRAY_120 = `${ROOT}.tools/memray-venv/bin/memray`;
const MEMRAY_120_PYTHON = `${ROOT}.tools/memray-venv/bin/python`;

/** Whether lib/native/symbolizer.ts exports `Symbolizer` (native frames can be named). */
export async function symbolizerPresent(): Promise<boolean> {
  try {
    const module = await import(new URL("../../lib/native/symbolizer.ts", import.meta.url).href);
    return typeof module.Symbolizer?.open === "function";
  } catch {
    return false;
  }
}

/** Our `run --native` of the fixture script in `dir`; returns the capture's path. */
export async function ourCapture(dir: string): Promise<string> {
  await installExtension(PYTHON, dir);
  await Deno.writeTextFile(`${dir}/x.py`, SCRIPT);
  const out = `${dir}/ours.bin`;
  const result = await memray(
    ["run", "-q", "--native", "-o", out, "--python", PYTHON, "x.py"],
    { cwd: dir },
  );
  expectExit(result, 0, "memray run --native");
  return out;
}

/** memray 1.20's own `run --native` of the fixture script in `dir`. */
export async function memrayCapture(dir: string): Promise<string> {
  await installExtension(MEMRAY_120_PYTHON, dir);
  await Deno.writeTextFile(`${dir}/x.py`, SCRIPT);
  const out = `${dir}/memray.bin`;
  const result = await runProcess(MEMRAY_120, ["run", "-q", "--native", "-o", out, "x.py"], {
    cwd: dir,
  });
  expectExit(result, 0, "memray 1.20 run --native");
  return out;
}
