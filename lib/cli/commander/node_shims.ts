/**
 * The few Node built-ins commander uses, backed by Deno APIs, bundled into `commander.js` in
 * place of `node:events`, `node:process`, `node:util`, `node:path`, `node:fs` and
 * `node:child_process`. Importing any real `node:` module starts Deno's Node compatibility layer,
 * which costs 10-35 ms of start-up on every `memray` command (measured: `node:events` alone +8 ms,
 * commander from npm +36 ms CPU over an empty script; this bundle +1.5 ms).
 *
 * Only what commander calls is here. Executable subcommands (`.command(name, description)`), the
 * one commander feature that needs files and child processes, are not used by memray: their entry
 * points throw.
 */

type Listener = (...args: unknown[]) => void;

/** The part of Node's EventEmitter commander uses: commander routes every option through it. */
export class EventEmitter {
  #listeners = new Map<string | symbol, Listener[]>();

  /** Adds `listener` for `event`, after those already there. */
  on(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, [listener]);
    else list.push(listener);
    return this;
  }

  /** Same as `on`. */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds `listener` for the next `event` only. */
  once(event: string | symbol, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      listener.apply(this, args);
    };
    return this.on(event, wrapper);
  }

  /** Removes the last registration of `listener` for `event`. */
  off(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    const index = list === undefined ? -1 : list.lastIndexOf(listener);
    if (index >= 0) list!.splice(index, 1);
    return this;
  }

  /** Same as `off`. */
  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Calls the listeners of `event` in order; true when there was one. */
  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const listener of [...list]) listener.apply(this, args);
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** A copy of the listeners of `event`. */
  listeners(event: string | symbol): Listener[] {
    return [...(this.#listeners.get(event) ?? [])];
  }
}

// Node's own pattern for terminal escape sequences (lib/internal/util/inspect.js).
const ANSI_PATTERN = new RegExp(
  "[\\u001B\\u009B][[\\]()#;?]*" +
    "(?:(?:(?:(?:;[-a-zA-Z\\d\\/\\#&.:=?%@~_]+)*" +
    "|[a-zA-Z\\d]+(?:;[-a-zA-Z\\d\\/\\#&.:=?%@~_]*)*)?" +
    "(?:\\u0007|\\u001B\\u005C|\\u009C))" +
    "|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?" +
    "[\\dA-PR-TZcf-ntqry=><~]))",
  "g",
);

/** `util.stripVTControlCharacters`: `text` without terminal escape sequences. */
export function stripVTControlCharacters(text: string): string {
  return text.replace(ANSI_PATTERN, "");
}

const encoder = new TextEncoder();

interface WritableFile {
  writeSync(data: Uint8Array): number;
  isTerminal(): boolean;
}

/** A `process.stdout`-like stream over a Deno file: synchronous, complete writes. */
export class OutputStream {
  readonly #file: WritableFile;

  constructor(file: WritableFile) {
    this.#file = file;
  }

  /** Writes all of `text` before returning (a closed pipe throws Deno.errors.BrokenPipe). */
  write(text: string): boolean {
    let bytes = encoder.encode(text);
    // Each call writes at least one byte or throws, so this ends.
    while (bytes.length > 0) bytes = bytes.subarray(this.#file.writeSync(bytes));
    return true;
  }

  get isTTY(): boolean {
    return this.#file.isTerminal();
  }

  /** The terminal width, when this is a terminal. */
  get columns(): number | undefined {
    if (!this.isTTY) return undefined;
    try {
      return Deno.consoleSize().columns;
    } catch {
      return undefined;
    }
  }

  /** Whether colours may be written (Node: a terminal that is not `TERM=dumb`). */
  hasColors(): boolean {
    return this.isTTY && !Deno.noColor && Deno.env.get("TERM") !== "dumb";
  }
}

function unsupported(what: string): never {
  throw new Error(`${what} is not available: memray's command line has no executable subcommands`);
}

/** The `process` commander reads: streams, environment, exit. */
const process = {
  stdout: new OutputStream(Deno.stdout),
  stderr: new OutputStream(Deno.stderr),
  get env(): Record<string, string> {
    return Deno.env.toObject();
  },
  get argv(): string[] {
    return [Deno.execPath(), ...Deno.args];
  },
  execArgv: [] as string[],
  get execPath(): string {
    return Deno.execPath();
  },
  platform: Deno.build.os,
  versions: {} as Record<string, string>,
  exitCode: undefined as number | undefined,
  defaultApp: undefined,
  exit(code?: number): never {
    Deno.exit(code ?? 0);
  },
  on(): never {
    unsupported("process.on");
  },
};

export default process;

/** `path.basename`, the one path function commander calls outside executable subcommands. */
export function basename(path: string, suffix?: string): string {
  const base = path.replace(/\/+$/, "").slice(path.replace(/\/+$/, "").lastIndexOf("/") + 1);
  return suffix !== undefined && base.endsWith(suffix) && base !== suffix
    ? base.slice(0, -suffix.length)
    : base;
}

/** `path.extname`: the last `.ext` of the base name, "" when none. */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot);
}

/** Used only by executable subcommands. */
export function resolve(): never {
  unsupported("path.resolve");
}

/** Used only by executable subcommands. */
export function dirname(): never {
  unsupported("path.dirname");
}

/** Used only by executable subcommands. */
export function existsSync(): never {
  unsupported("fs.existsSync");
}

/** Used only by executable subcommands. */
export function realpathSync(): never {
  unsupported("fs.realpathSync");
}

/** Used only by executable subcommands. */
export function spawn(): never {
  unsupported("child_process.spawn");
}
