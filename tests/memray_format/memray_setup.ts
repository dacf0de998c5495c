/**
 * Set-up shared by the tests against memray 1.20 itself: the memray installed in
 * .tools/memray-venv (`bash bench/install_memray.sh`), and the captures it makes of the scripts in
 * ./scripts, once per test file.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
/** The Python of the venv memray 1.20 is installed in. */
export const MEMRAY_PYTHON = `${ROOT}.tools/memray-venv/bin/python`;
const SCRIPTS = new URL("./scripts/", import.meta.url).pathname;

function memrayVersion(): string | undefined {
  try {
    const out = new Deno.Command(MEMRAY_PYTHON, { args: ["-m", "memray", "--version"] })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Whether memray 1.20.0 is installed; the tests are skipped (with a message) without it. */
export const HAVE_MEMRAY = memrayVersion() === "1.20.0";

/** One capture memray makes in the set-up. */
export interface Spec {
  name: string;
  script: string;
  flags: string[];
  /** memray is killed by the script (SIGKILL): exit status 137. */
  crash?: boolean;
  aggregated?: boolean;
}

/** Runs the venv's Python with `args` in `cwd`, output piped. */
export function runMemrayPython(args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Deno.Command(MEMRAY_PYTHON, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
}

/**
 * Returns a function that makes every capture of `specs` once (in parallel, in a new temporary
 * directory named with `prefix` holding copies of `scripts`) and returns that directory.
 */
export function memrayCaptures(
  options: { prefix: string; scripts: string[]; specs: Spec[] },
): () => Promise<string> {
  let work_dir: Promise<string> | undefined;
  return () => {
    work_dir ??= (async () => {
      const dir = await Deno.makeTempDir({ prefix: options.prefix });
      for (const f of options.scripts) {
        await Deno.copyFile(`${SCRIPTS}${f}`, `${dir}/${f}`);
      }
      await Promise.all(options.specs.map(async (s) => {
        const out = await runMemrayPython(
          ["-m", "memray", "run", "-f", ...s.flags, "-o", `${s.name}.bin`, s.script],
          dir,
        );
        if (out.code !== (s.crash ? 137 : 0)) {
          throw new Error(
            `memray run ${s.name} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
          );
        }
      }));
      return dir;
    })();
    return work_dir;
  };
}
