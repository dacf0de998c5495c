/** Errors the capture reader and reports throw. Every message is one line. */

/** A capture file that cannot be read: "Cannot parse capture X: <what>". */
export class CaptureError extends Error {
  override name = "CaptureError";
  constructor(readonly capture_path: string, readonly what: string) {
    super(`Cannot parse capture ${capture_path}: ${what}`);
  }
}

/** A request the user made wrongly (bad option value, stdout is a terminal, ...). */
export class UsageError extends Error {
  override name = "UsageError";
}
