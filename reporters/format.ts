/** Formatting and output helpers shared by the terminal reports. */

/** memray's `size_fmt`: three decimals, 1000-based units ("1.000B", "216.701kB", "41.943MB"). */
export function sizeFmt(bytes: number): string {
  let n = bytes;
  for (const unit of ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"]) {
    if (Math.abs(n) < 1000) return `${n.toFixed(3)}${unit}`;
    n /= 1000;
  }
  return `${n.toFixed(3)}YB`;
}

/** Where a report writes text. */
export type TextSink = (text: string) => void;

/** Writes to the process stdout synchronously (reports are written in order, in pieces). */
export const stdoutSink: TextSink = (text) => {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
};

/** Collects pieces into a buffer and hands them to `sink` about every 64 KiB. */
export class BufferedSink {
  #parts: string[] = [];
  #size = 0;
  constructor(readonly sink: TextSink) {}
  line(text: string): void {
    this.text(text + "\n");
  }
  /** Text without a line end added. */
  text(text: string): void {
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= 65536) this.flush();
  }
  flush(): void {
    if (this.#parts.length === 0) return;
    this.sink(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
  }
}

/**
 * Python's `str()` of an aware local datetime from Unix milliseconds, as memray's `millis_to_dt`
 * (`datetime.fromtimestamp(ms // 1000).replace(microsecond=...).astimezone()`):
 * "2026-11-26 11:54:39.980000+00:00", without the fraction when it is 0.
 */
export function pythonAwareDatetime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const fraction = d.getMilliseconds() === 0 ? "" : `.${p(d.getMilliseconds() * 1000, 6)}`;
  const east_min = -d.getTimezoneOffset();
  const sign = east_min < 0 ? "-" : "+";
  const abs = Math.abs(east_min);
  return `${base}${fraction}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}
