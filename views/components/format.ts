// Formatting shared by every view: bytes, percents, durations, instants, with "n/a" for values a machine does not report.
export const NA = "N/A";

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return NA;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatPercent(p: number | null | undefined): string {
  return p === null || p === undefined ? NA : `${p.toFixed(p < 10 ? 1 : 0)} %`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return NA;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${Math.floor(seconds % 60)}s`;
}

export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** An instant as the pages write it: "2026-11-23 10:00:00 UTC"; "—" for none. */
export function formatAt(ms: number | Date | null): string {
  if (ms === null) return "—";
  const d = typeof ms === "number" ? new Date(ms) : ms;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** How long from `from` to `to` (epoch ms), in words: "3m 12s", "2h 5m". */
export function span(from: number, to: number): string {
  return formatDuration(Math.max(0, Math.round((to - from) / 1000)));
}
