/**
 * A progress bar on stderr for reading big captures: drawn only when stderr is a terminal and
 * only once the work has taken more than a second (short reads stay silent), erased when done.
 */

/** Options of {@link ProgressBar}. */
export interface ProgressOptions {
  /** What is in progress, shown before the bar. */
  label: string;
  /** Milliseconds before the bar first shows (default 1000). */
  delay_ms?: number;
  /** Whether to draw at all (default: `Deno.stderr.isTerminal()`). */
  enabled?: boolean;
  /** Where the bar goes (default: stderr). */
  write?: (text: string) => void;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

const WIDTH = 30;
const encoder = new TextEncoder();

/** Redraws at most every 100 ms; {@link done} erases the line if anything was drawn. */
export class ProgressBar {
  readonly #label: string;
  readonly #delay_ms: number;
  readonly #enabled: boolean;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #start_ms: number;
  #last_draw_ms = -Infinity;
  #drawn = false;

  constructor(options: ProgressOptions) {
    this.#label = options.label;
    this.#delay_ms = options.delay_ms ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    let enabled = options.enabled;
    if (enabled === undefined) {
      try {
        enabled = Deno.stderr.isTerminal();
      } catch {
        enabled = false;
      }
    }
    this.#enabled = enabled;
    this.#start_ms = this.#now();
  }

  /** Reports progress as a fraction in [0, 1]. */
  update(fraction: number): void {
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#start_ms < this.#delay_ms || now - this.#last_draw_ms < 100) return;
    this.#last_draw_ms = now;
    const f = Math.min(Math.max(fraction, 0), 1);
    const filled = Math.round(f * WIDTH);
    const bar = "█".repeat(filled) + "░".repeat(WIDTH - filled);
    const seconds = ((now - this.#start_ms) / 1000).toFixed(1);
    this.#write(`\r${this.#label} ${bar} ${(f * 100).toFixed(0).padStart(3)}% ${seconds}s`);
    this.#drawn = true;
  }

  /** Erases the bar if it was drawn. */
  done(): void {
    if (this.#drawn) this.#write("\r\x1b[2K");
    this.#drawn = false;
  }
}
