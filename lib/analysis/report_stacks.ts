/**
 * The stacks of one report run: opens a {@link StackResolver} per capture the report reads
 * (with the CLI's `--debug-dir` and `--no-debuginfod`), says once on stderr what native frames
 * will lack when symbols are missing (memray's "No symbol information..." warning), and closes
 * every resolver when the report is done.
 */
import type { DebuginfodOptions } from "../native/debuginfod.ts";
import {
  type MissingSymbols,
  openSymbolizer,
  type ResolvableCapture,
  StackResolver,
  type SymbolizerLike,
} from "./stack_resolver.ts";

/** Options of {@link ReportStacks}. */
export interface ReportStackOptions {
  /** Extra debug-file directories (`--debug-dir`, repeatable). */
  debug_dirs?: string[];
  /** False for `--no-debuginfod`; options for tests. Default: `DEBUGINFOD_URLS`. */
  debuginfod?: boolean | DebuginfodOptions;
  /** Where warning lines go (default: stderr). */
  warn?: (line: string) => void;
  /** A symbolizer per capture (tests); default: lib/native/symbolizer.ts. */
  symbolizer?: () => SymbolizerLike;
}

const MORE_INFO = "See https://bloomberg.github.io/memray/native_mode.html.";

/** How many module paths a warning names before "and N more". */
const MAX_NAMED_MODULES = 3;

/** The warning lines for what a native report will lack, memray's wording first. */
export function missingSymbolWarnings(missing: MissingSymbols): string[] {
  const out: string[] = [];
  const interpreter = missing.interpreter;
  if (interpreter?.lacks === "symbols") {
    out.push(
      `memray: warning: No symbol information was found for the Python interpreter ` +
        `(${interpreter.path}): its eval-loop frames cannot be found in native stacks, so ` +
        `those stacks show their Python frames only (no extension or C frames) and may not ` +
        `accurately reflect the calls. Use an interpreter built with debug symbols. ${MORE_INFO}`,
    );
  } else if (interpreter?.lacks === "debug_info") {
    out.push(
      `memray: warning: No debug information was found for the Python interpreter ` +
        `(${interpreter.path}): its native frames have no file names and line numbers, and ` +
        `CPython's own frames cannot be told apart from other C frames, so they stay in the ` +
        `stacks. Use an interpreter built with debug symbols. ${MORE_INFO}`,
    );
  }
  const bare = missing.modules_without_symbols;
  if (bare.length > 0) {
    const named = bare.slice(0, MAX_NAMED_MODULES).join(", ");
    const more = bare.length > MAX_NAMED_MODULES
      ? ` and ${bare.length - MAX_NAMED_MODULES} more`
      : "";
    out.push(
      `memray: warning: No symbol information was found for ${bare.length} ` +
        `module${bare.length === 1 ? "" : "s"} (${named}${more}): their frames show as ` +
        `"<unknown>". Give their debug files with --debug-dir or a debuginfod server ` +
        `(DEBUGINFOD_URLS).`,
    );
  }
  return out;
}

/** Resolvers of one report run; {@link close} them all when the report is done. */
export class ReportStacks {
  readonly #options: ReportStackOptions;
  readonly #warn: (line: string) => void;
  readonly #warned = new Set<string>();
  readonly #open: StackResolver[] = [];
  #closed = false;

  constructor(options: ReportStackOptions = {}) {
    this.#options = options;
    this.#warn = options.warn ?? ((line) => console.error(line));
  }

  /**
   * The resolver of `capture`: merged native+Python stacks when it has native traces, Python
   * stacks otherwise. Warns (once per report) about missing symbols.
   */
  async open(capture: ResolvableCapture): Promise<StackResolver> {
    if (this.#closed) throw new Error("ReportStacks.open after close");
    const o = this.#options;
    const debuginfod = o.debuginfod === false
      ? false
      : o.debuginfod === true || o.debuginfod === undefined
      ? { warn: this.#warn }
      : { warn: this.#warn, ...o.debuginfod };
    let symbolizer: SymbolizerLike | undefined;
    if (capture.header.native_traces) {
      try {
        symbolizer = o.symbolizer?.() ?? await openSymbolizer(o.debug_dirs ?? []);
      } catch (error) {
        // A report without native frames beats no report.
        const reason = String((error as Error)?.message ?? error).split("\n")[0];
        this.#warnOnce(
          `memray: warning: Cannot load the native symbolizer (${reason}): the report's ` +
            `stacks have their Python frames only, without extension or C frames.`,
        );
      }
    }
    const resolver = await StackResolver.open(capture, {
      native: symbolizer !== undefined,
      debug_dirs: o.debug_dirs,
      debuginfod,
      symbolizer,
    });
    this.#open.push(resolver);
    missingSymbolWarnings(resolver.missingSymbols()).forEach((line) => this.#warnOnce(line));
    return resolver;
  }

  #warnOnce(line: string): void {
    if (this.#warned.has(line)) return;
    this.#warned.add(line);
    this.#warn(line);
  }

  /** Closes every resolver opened. */
  close(): void {
    this.#closed = true;
    for (const resolver of this.#open.splice(0)) resolver.close();
  }
}

/**
 * Runs `body` with `given` (the CLI's, closed by the CLI) or, without one, with a
 * {@link ReportStacks} of its own (made with `options`) that is closed afterwards.
 */
export async function withReportStacks<T>(
  given: ReportStacks | undefined,
  body: (stacks: ReportStacks) => Promise<T> | T,
  options: ReportStackOptions = {},
): Promise<T> {
  if (given !== undefined) return await body(given);
  const own = new ReportStacks(options);
  try {
    return await body(own);
  } finally {
    own.close();
  }
}
