/** What memray prints after a gprof2dot transform: how to render it, and what is missing. */

/** Options of {@link gprof2dotHint}. */
export interface HintOptions {
  /** The transform's output path, as printed after "Wrote". */
  output: string;
  /** Whether `gprof2dot` and `dot` are on PATH. */
  hasGprof2dot: boolean;
  hasDot: boolean;
  /** ANSI red for the warnings (a terminal). */
  color: boolean;
  /** Columns to wrap warnings at, as rich does (80 when not a terminal). */
  width: number;
}

/** Character cells of `text`: emoji take two. */
function cells(text: string): number {
  let n = 0;
  for (const c of text) n += /\p{Extended_Pictographic}/u.test(c) ? 2 : 1;
  return n;
}

/** rich's word wrap: words keep their trailing space; a word fits if its text (unspaced) fits. */
export function richWrap(text: string, width: number): string {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/(?<= )/)) {
      if (line !== "" && cells(line) + cells(word.trimEnd()) > width) {
        out.push(line);
        line = "";
      }
      line += word;
    }
    out.push(line);
  }
  return out.join("\n");
}

function warning(what: string, url: string, options: HintOptions): string {
  const message = `${what} doesn't seem to be installed. ` +
    "Please install it to be able to process the transform.";
  const wrapped = richWrap(
    `❗ ${message}\n👉 Check out ${url} for installation instructions`,
    options.width,
  );
  if (!options.color) return wrapped + "\n";
  // The message is red, up to the line the pointing hand starts; rich ends styles at line ends.
  const red = (s: string) => `\x1b[31m${s}\x1b[0m`;
  const lines = wrapped.split("\n");
  const hand = lines.findIndex((l) => l.startsWith("👉"));
  return lines.map((line, i) => {
    if (i >= hand) return line;
    return i === 0 ? `❗ ${red(line.slice("❗ ".length))}` : red(line);
  }).join("\n") + "\n";
}

/** The text memray's `post_run_gprof2dot` prints. */
export function gprof2dotHint(options: HintOptions): string {
  let text = "";
  if (!options.hasGprof2dot) {
    text += warning("gprof2dot", "https://github.com/jrfonseca/gprof2dot", options);
  }
  if (!options.hasDot) text += warning("Graphviz", "https://graphviz.org/download/", options);
  // memray leaves the command empty when gprof2dot is missing.
  const command = options.hasGprof2dot ? "gprof2dot" : "";
  return text + "\nTo generate a graph from the transform file, run for example:\n" +
    `${command} -f json ${options.output} | dot -Tpng -o output.png\n`;
}

/** True when an executable `name` is on PATH (as `shutil.which`). */
export async function onPath(name: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const info = await Deno.stat(`${dir || "."}/${name}`);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}
