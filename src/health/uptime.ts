// Uptime arithmetic over status windows: percentages with a weight for degraded time, timeline segments and incidents, clipped to a range.
import type { HealthStatus } from "../checks/checker.ts";

export interface StatusWindow {
  status: HealthStatus;
  startedAt: number;
  /** Null while the window is open (it ends "now"). */
  endedAt: number | null;
  message?: string;
}

export interface Segment {
  status: HealthStatus;
  from: number;
  to: number;
  ms: number;
  message?: string;
  /** The window goes on past the range's end (open, or ending later). */
  ongoing: boolean;
}

/** The windows' parts inside [from, to), with open windows ending at `now`; oldest first. */
export function segments(windows: readonly StatusWindow[], from: number, to: number, now: number): Segment[] {
  const end = Math.min(to, now);
  const out: Segment[] = [];
  for (const w of windows) {
    const wEnd = w.endedAt ?? now;
    const a = Math.max(w.startedAt, from);
    const b = Math.min(wEnd, end);
    if (b <= a) continue;
    out.push({ status: w.status, from: a, to: b, ms: b - a, message: w.message, ongoing: w.endedAt === null || wEnd > end });
  }
  return out.sort((x, y) => x.from - y.from);
}

export interface Uptime {
  /** Healthy time plus `degradedWeight` x degraded time, over the time with a known status; null when none is known. */
  percent: number | null;
  healthyMs: number;
  degradedMs: number;
  downMs: number;
  /** Inside the range but before the first check (or between windows): not counted either way. */
  unknownMs: number;
}

export function uptime(windows: readonly StatusWindow[], from: number, to: number, now: number, degradedWeight = 0.5): Uptime {
  const parts = segments(windows, from, to, now);
  const sum = (s: HealthStatus) => parts.filter((p) => p.status === s).reduce((n, p) => n + p.ms, 0);
  const healthyMs = sum("healthy");
  const degradedMs = sum("degraded");
  const downMs = sum("down");
  const known = healthyMs + degradedMs + downMs;
  const span = Math.max(0, Math.min(to, now) - from);
  return {
    percent: known > 0 ? ((healthyMs + degradedWeight * degradedMs) / known) * 100 : null,
    healthyMs,
    degradedMs,
    downMs,
    unknownMs: Math.max(0, span - known),
  };
}

/** Every window that was not healthy, overlapping the range, newest first, with its whole duration (not clipped). */
export function incidents(
  windows: readonly StatusWindow[],
  from: number,
  to: number,
  now: number,
): (StatusWindow & { durationMs: number })[] {
  return windows
    .filter((w) => w.status !== "healthy" && w.startedAt < to && (w.endedAt ?? now) > from)
    .map((w) => ({ ...w, durationMs: (w.endedAt ?? now) - w.startedAt }))
    .sort((a, b) => b.startedAt - a.startedAt);
}
