/** Formatting shared by the pages: sizes in memray's base-1000 units, counts, times. */

const UNITS = ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/**
 * memray's `humanFileSize`: bytes below 1000 as "512 B", else one decimal in base-1000 units
 * ("1.5 kB", "41.9 MB").
 */
export function formatBytes(bytes: number, decimals = 1): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1000) return `${bytes} B`;
  const r = 10 ** decimals;
  let value = bytes;
  let u = -1;
  do {
    value /= 1000;
    u++;
  } while (Math.round(Math.abs(value) * r) / r >= 1000 && u < UNITS.length - 1);
  return `${value.toFixed(decimals)} ${UNITS[u]}`;
}

/** A count with thousands separators ("1,234,567"). */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Unix milliseconds as "2026-11-26 11:54:39.980" in the viewer's time zone. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
      pad(d.getMilliseconds(), 3)
    }`;
}

/** A duration in milliseconds as "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (!(ms >= 0)) return "unknown";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total_s = Math.round(s);
  const min = Math.floor(total_s / 60);
  if (min < 60) return `${min} min ${pad(total_s % 60)} s`;
  return `${Math.floor(min / 60)} h ${pad(min % 60)} min`;
}

/** Milliseconds since `start_ms` as a short axis label ("0 s", "1.5 s", "2 min 10 s"). */
export function formatOffset(ms: number, start_ms: number): string {
  const d = ms - start_ms;
  if (d < 1000) return `${Math.round(d)} ms`;
  return formatDuration(d);
}
