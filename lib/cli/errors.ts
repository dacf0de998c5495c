/** Errors the CLI reports as one line `memray: <message>` (never a stack trace). */

/** A command failed: printed as `memray: <message>`, exit status 1 unless told otherwise. */
export class CliError extends Error {
  /** The process exit status to leave with. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong (a bad flag or argument): exit status 2, as argparse. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** The one line printed for any error: `memray: <message>` with no line breaks. */
export function formatErrorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const oneLine = message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim();
  return oneLine.startsWith("memray: ") ? oneLine : `memray: ${oneLine}`;
}
