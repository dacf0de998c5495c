/**
 * Fixtures for the debug-info tests: a library built with a GNU build-id and then split into a
 * stripped library and its separate debug file (as distributions ship them), a real `debuginfod`
 * server on loopback serving that debug file, a dead server (closed port) and a server that
 * accepts connections and never answers.
 */
import { FIXTURE_LIBRARY_FLAGS } from "../support/files.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const ZIG = `${ROOT}/.tools/bin/zig`;

/** The C source of the stripped library. */
export const STRIPPED_SOURCE = `${ROOT}/tests/native_symbols/fixtures/stripped_lib.c`;

/** A library split into its stripped self and its debug file. */
export interface SplitLibrary {
  /** The library before stripping (full symbols and DWARF). */
  full: string;
  /** `strip --strip-all` + `.gnu_debuglink`: only dynamic symbols are left. */
  stripped: string;
  /** `objcopy --only-keep-debug`: what a debuginfod server serves. */
  debug: string;
  /** GNU build-id, lowercase hex. */
  build_id: string;
}

const decoder = new TextDecoder();

async function run(program: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(program, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (out.code !== 0) {
    throw new Error(`${program} ${args.join(" ")} failed:\n${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/** The GNU build-id of an ELF file (readelf -n), lowercase hex. */
export async function readBuildId(path: string): Promise<string> {
  const notes = await run("readelf", ["-n", path]);
  const match = /Build ID: ([0-9a-f]+)/.exec(notes);
  if (!match) throw new Error(`${path} has no GNU build-id`);
  return match[1];
}

/** Builds `source` (default the stripped-library fixture) into `dir` and splits it. */
export async function buildSplitLibrary(
  dir: string,
  source = STRIPPED_SOURCE,
  name = "libstripped",
): Promise<SplitLibrary> {
  const full = `${dir}/${name}.full.so`;
  const stripped = `${dir}/${name}.so`;
  // Not next to the library nor in its .debug/: a debuglink search must not find it locally.
  await Deno.mkdir(`${dir}/debug-only`, { recursive: true });
  const debug = `${dir}/debug-only/${name}.debug`;
  await run(ZIG, ["cc", ...FIXTURE_LIBRARY_FLAGS, "-o", full, source]);
  await run("objcopy", ["--only-keep-debug", full, debug]);
  await run("strip", ["--strip-all", "-o", stripped, full]);
  await run("objcopy", [`--add-gnu-debuglink=${debug}`, stripped], dir);
  return { full, stripped, debug, build_id: await readBuildId(full) };
}

/** A server the tests started; `stop` ends it. */
export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

/** A free loopback port (listen on 0, close: a small race other tests do not share). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a real `debuginfod -F` on loopback over `scan_dir` (database in `work_dir`) and waits
 * until it serves `ready_build_id` (the scan takes about a second).
 */
export async function startDebuginfod(
  scan_dir: string,
  work_dir: string,
  ready_build_id: string,
): Promise<TestServer> {
  const port = freePort();
  const child = new Deno.Command("debuginfod", {
    args: [
      "-p",
      String(port),
      "-F",
      "-d",
      `${work_dir}/debuginfod.sqlite`,
      "-t",
      "0",
      "-g",
      "0",
      scan_dir,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/buildid/${ready_build_id}/debuginfo`);
      await response.body?.cancel();
      if (response.status === 200) return { url, stop };
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`debuginfod on port ${port} did not serve ${ready_build_id} within 20 s`);
}

/** A URL where nothing listens (connection refused). */
export function deadServerUrl(): string {
  return `http://127.0.0.1:${freePort()}`;
}

/** A TCP listener that accepts connections, reads nothing and never answers. */
export function silentServer(): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const connection of listener) connections.push(connection);
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    stop: async () => {
      listener.close();
      for (const connection of connections) {
        try {
          connection.close();
        } catch { /* closed by the peer */ }
      }
      await accepting;
    },
  };
}
