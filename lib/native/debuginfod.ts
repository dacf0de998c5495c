/**
 * A debuginfod client: fetches a module's separate debug file by GNU build-id from the servers
 * in `DEBUGINFOD_URLS` (`GET <url>/buildid/<hex>/debuginfo`) into the standard client cache
 * (`<cache>/<hex>/debuginfo`), so the symbolizer can find names and lines of stripped modules.
 *
 * A report must never hang on a dead or slow server (memray #634): every request has a connect
 * deadline (response headers) and a stall deadline (body), the whole client has one time budget
 * and one request budget per report, a few requests run at once, a server that fails once is not
 * asked again, misses are remembered for the run, and each problem is one warning line.
 */

/** Options of {@link DebuginfodClient}; the CLI maps `--no-debuginfod` to `enabled: false`. */
export interface DebuginfodOptions {
  /** False turns the client off (`--no-debuginfod`). Default true. */
  enabled?: boolean;
  /** Server base URLs; default: `DEBUGINFOD_URLS` split on whitespace. */
  urls?: readonly string[];
  /** Cache directory; default: `DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`, else `~/.cache/debuginfod_client`. */
  cache_dir?: string;
  /** Time until a server must have sent response headers. Default 2000 ms. */
  connect_timeout_ms?: number;
  /** Longest pause while a body downloads. Default 2000 ms. */
  stall_timeout_ms?: number;
  /** Time all requests of this client may take together (one report). Default 10000 ms. */
  budget_ms?: number;
  /** Most HTTP requests this client makes. Default 64. */
  max_requests?: number;
  /** Most requests in flight at once. Default 4. */
  max_parallel?: number;
  /** Where warning lines go. Default: stderr via `console.error`. */
  warn?: (line: string) => void;
  /** Environment lookup (tests pass their own). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const BUILD_ID_HEX = /^[0-9a-f]{2,128}$/;

/** The cache directory the standard client uses, from the environment. */
export function defaultCacheDir(env: (name: string) => string | undefined): string | undefined {
  const explicit = env("DEBUGINFOD_CACHE_PATH");
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/debuginfod_client`;
  const home = env("HOME");
  return home ? `${home}/.cache/debuginfod_client` : undefined;
}

/** Server URLs of a `DEBUGINFOD_URLS` value, without trailing slashes, http(s) only. */
export function parseServerUrls(value: string | undefined): string[] {
  const urls = (value ?? "").split(/\s+/).filter((u) => /^https?:\/\//.test(u));
  return [...new Set(urls.map((u) => u.replace(/\/+$/, "")))];
}

/** Build-id bytes as the lowercase hex the cache and the URLs use. */
export function buildIdHex(build_id: Uint8Array): string {
  return Array.from(build_id, (b) => b.toString(16).padStart(2, "0")).join("");
}

class RequestFailed extends Error {
  constructor(message: string, readonly server_down: boolean) {
    super(message);
  }
}

/** Fetches debug files by build-id; one instance per report. */
export class DebuginfodClient {
  readonly urls: readonly string[];
  readonly cache_dir: string | undefined;
  readonly #connect_ms: number;
  readonly #stall_ms: number;
  readonly #deadline_ms: number;
  readonly #warn: (line: string) => void;
  readonly #max_parallel: number;
  #requests_left: number;
  #in_flight = 0;
  #waiting: (() => void)[] = [];
  #pending = new Map<string, Promise<string | undefined>>();
  #misses = new Set<string>();
  #down = new Set<string>();
  #warned = new Set<string>();

  constructor(options: DebuginfodOptions = {}) {
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    this.urls = options.enabled === false
      ? []
      : options.urls
      ? parseServerUrls(options.urls.join(" "))
      : parseServerUrls(env("DEBUGINFOD_URLS"));
    this.cache_dir = options.cache_dir ?? defaultCacheDir(env);
    this.#connect_ms = options.connect_timeout_ms ?? 2000;
    this.#stall_ms = options.stall_timeout_ms ?? 2000;
    this.#deadline_ms = Date.now() + (options.budget_ms ?? 10_000);
    this.#requests_left = options.max_requests ?? 64;
    this.#max_parallel = Math.max(1, options.max_parallel ?? 4);
    this.#warn = options.warn ?? ((line) => console.error(line));
  }

  /** True when there is a server to ask and a cache to keep answers in. */
  get active(): boolean {
    return this.urls.length > 0 && this.cache_dir !== undefined;
  }

  /**
   * The path of the debug file for `build_id` (hex or bytes): from the cache, else downloaded
   * from the first server that has it. Undefined when no server has it or none could be asked;
   * never throws for network trouble.
   */
  debuginfo(build_id: string | Uint8Array): Promise<string | undefined> {
    const hex = typeof build_id === "string" ? build_id.toLowerCase() : buildIdHex(build_id);
    if (!BUILD_ID_HEX.test(hex) || !this.active || this.#misses.has(hex)) {
      return Promise.resolve(undefined);
    }
    let pending = this.#pending.get(hex);
    if (pending === undefined) {
      pending = this.#lookUp(hex);
      this.#pending.set(hex, pending);
    }
    return pending;
  }

  async #lookUp(hex: string): Promise<string | undefined> {
    const path = `${this.cache_dir}/${hex}/debuginfo`;
    if (await isElfFile(path)) return path;
    for (const url of this.urls) {
      if (this.#down.has(url)) continue;
      const found = await this.#limited(() => this.#download(url, hex, path));
      if (found) return path;
    }
    this.#misses.add(hex);
    return undefined;
  }

  /** Runs `body` when fewer than max_parallel requests are in flight. */
  async #limited<T>(body: () => Promise<T>): Promise<T> {
    while (this.#in_flight >= this.#max_parallel) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#in_flight++;
    try {
      return await body();
    } finally {
      this.#in_flight--;
      this.#waiting.shift()?.();
    }
  }

  /** One request: true when the file is now in the cache. */
  async #download(url: string, hex: string, path: string): Promise<boolean> {
    if (this.#down.has(url)) return false;
    const left_ms = this.#deadline_ms - Date.now();
    if (left_ms <= 0 || this.#requests_left <= 0) {
      this.#warnOnce(
        "budget",
        "memray: debuginfod: request budget for this report used up; " +
          "modules without debug info keep only symbol names",
      );
      return false;
    }
    this.#requests_left--;
    try {
      const body = await this.#get(`${url}/buildid/${hex}/debuginfo`, left_ms);
      if (body === undefined) return false;
      if (!ELF_MAGIC.every((b, i) => body[i] === b)) {
        this.#warnOnce(
          `elf:${url}`,
          `memray: debuginfod server ${url} sent a file that is not ELF for ${hex}; ignored`,
        );
        return false;
      }
      try {
        await writeAtomically(path, body);
      } catch (error) {
        this.#warnOnce("cache", `memray: debuginfod: Cannot write ${path}: ${firstLine(error)}`);
        return false;
      }
      return true;
    } catch (error) {
      if (error instanceof RequestFailed) {
        if (error.server_down) this.#down.add(url);
        this.#warnOnce(
          `down:${url}`,
          `memray: debuginfod server ${url} ${error.message}; ` +
            "continuing without it",
        );
        return false;
      }
      throw error;
    }
  }

  /** The body of a 200 answer, undefined for 404, RequestFailed for anything else. */
  async #get(url: string, left_ms: number): Promise<Uint8Array | undefined> {
    const controller = new AbortController();
    let why = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number, reason: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        why = reason;
        controller.abort();
      }, Math.max(1, Math.min(ms, this.#deadline_ms - Date.now())));
    };
    try {
      arm(Math.min(this.#connect_ms, left_ms), `did not answer within ${this.#connect_ms} ms`);
      const response = await fetch(url, { signal: controller.signal, redirect: "follow" });
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (response.status !== 200 || response.body === null) {
        await response.body?.cancel();
        throw new RequestFailed(`answered HTTP ${response.status}`, response.status >= 500);
      }
      const parts: Uint8Array[] = [];
      let size = 0;
      const reader = response.body.getReader();
      for (;;) {
        arm(this.#stall_ms, `stalled for ${this.#stall_ms} ms while sending a file`);
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        size += value.length;
      }
      const body = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        body.set(part, at);
        at += part.length;
      }
      return body;
    } catch (error) {
      if (error instanceof RequestFailed) throw error;
      if (why === "" && Date.now() >= this.#deadline_ms) why = "ran out of the time budget";
      const reason = why || `is unreachable (${firstLine(error)})`;
      throw new RequestFailed(reason, true);
    } finally {
      clearTimeout(timer);
    }
  }

  #warnOnce(key: string, line: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warn(line);
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].replace(/^error sending request for url \([^)]*\): /, "");
}

async function isElfFile(path: string): Promise<boolean> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path);
    const head = new Uint8Array(4);
    const n = await file.read(head);
    return n === 4 && ELF_MAGIC.every((b, i) => head[i] === b);
  } catch {
    return false;
  } finally {
    file?.close();
  }
}

/** Writes `path` through a temporary file and a rename, so readers never see half a file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const directory = path.slice(0, path.lastIndexOf("/"));
  await Deno.mkdir(directory, { recursive: true });
  const temporary = `${directory}/.debuginfo.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
