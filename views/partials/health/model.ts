// What the health pages' regions render from, and the small pure helpers they share: states in words, timeline bars, the live view's name.
import type { HealthStatus } from "../../../src/checks/checker.ts";
import type { LatestCheck, ServiceRow } from "../../../src/health/loop.ts";
import type { Preflight } from "../../../src/health/preflight.ts";
import type { Segment, Uptime } from "../../../src/health/uptime.ts";

/** A service's state as the pages show it: a check's status, or "unknown" before its first check. */
export type ServiceState = HealthStatus | "unknown";

export const STATE_WORDS: Record<ServiceState, string> = {
  healthy: "healthy",
  degraded: "degraded",
  down: "down",
  unknown: "not checked yet",
};

export function stateOf(latest: Pick<LatestCheck, "status"> | undefined): ServiceState {
  return latest ? latest.status : "unknown";
}

/** One service's card on /health. */
export interface ServiceCardView {
  service: ServiceRow;
  latest: LatestCheck | undefined;
  /** The worker it runs on, by name; null when it is checked from the head. */
  workerName: string | null;
  uptime7d: number | null;
  /** The last 24 hours. */
  bar: readonly BarPart[];
}

/** An active override's id by checklist item name, for the Cancel button. */
export type OverrideIds = ReadonlyMap<string, number>;

/** Everything the live regions of /health are a pure function of. */
export interface HealthRegionProps {
  now: number;
  preflight: Preflight;
  overrideIds: OverrideIds;
  cards: readonly ServiceCardView[];
  /** Admins get the override forms; the routes refuse anyone else anyway. */
  admin: boolean;
}

/** What the detail page of one service shows, besides its settings. */
export interface ServiceDetailProps {
  now: number;
  service: ServiceRow;
  latest: LatestCheck | undefined;
  workerName: string | null;
  uptime7d: Uptime;
  uptime30d: Uptime;
  /** The chosen range in days (one of RANGE_DAYS). */
  days: number;
  /** The range's status windows, clipped to it, oldest first. */
  timeline: readonly Segment[];
  bar: readonly BarPart[];
  incidents: readonly { status: HealthStatus; startedAt: number; endedAt: number | null; durationMs: number; message?: string }[];
  checks: readonly CheckRow[];
}

export interface CheckRow {
  id: number;
  at: Date;
  status: string;
  latencyMs: number | null;
  message: string;
  details: unknown;
}

/** The ranges the detail page's timeline offers. */
export const RANGE_DAYS = [1, 7, 30] as const;
export const DAY_MS = 86_400_000;

export function rangeOf(raw: string | null | undefined): number {
  const n = Number(raw);
  return (RANGE_DAYS as readonly number[]).includes(n) ? n : 7;
}

/**
 * A piece of a timeline bar: a status window (or a stretch with no result: before the first check, or a gap) and its
 * width in whole percent, for the stylesheet's w0..w100 classes (the CSP allows no inline style).
 */
export interface BarPart {
  state: ServiceState;
  from: number;
  to: number;
  width: number;
  message?: string;
  ongoing: boolean;
}

/**
 * The bar of [from, to): the windows in order, with the unknown stretches between them filled in. Widths are rounded to
 * whole percent summing to 100 (largest remainders first), and a window shorter than 1 % still gets 1 %: a two-minute
 * outage in a day must stay visible (the stylesheet also gives every part a minimum width).
 */
export function timelineBar(windows: readonly Segment[], from: number, to: number): BarPart[] {
  const total = to - from;
  if (total <= 0) return [];
  const parts: Omit<BarPart, "width">[] = [];
  let cursor = from;
  for (const w of windows) {
    if (w.from > cursor) parts.push({ state: "unknown", from: cursor, to: w.from, ongoing: false });
    parts.push({ state: w.status, from: w.from, to: w.to, message: w.message, ongoing: w.ongoing });
    cursor = Math.max(cursor, w.to);
  }
  if (cursor < to) parts.push({ state: "unknown", from: cursor, to, ongoing: false });
  const exact = parts.map((p) => ((p.to - p.from) / total) * 100);
  const widths = exact.map((x) => Math.max(x > 0 ? 1 : 0, Math.floor(x)));
  let left = 100 - widths.reduce((a, b) => a + b, 0);
  // Hand out what rounding down left over, largest remainder first; take back what the minimums overspent from the widest.
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (let k = 0; left > 0 && byRemainder.length > 0; k = (k + 1) % byRemainder.length, left--) widths[byRemainder[k]!.i]!++;
  while (left < 0) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 1) break;
    widths[widest]!--;
    left++;
  }
  return parts.map((p, i) => ({ ...p, width: Math.min(100, widths[i]!) }));
}

/** "99.93 %", "100 %", or "—" before anything is known. */
export function formatUptime(percent: number | null): string {
  if (percent === null) return "—";
  if (percent >= 99.995) return "100 %";
  return `${percent.toFixed(percent >= 99 ? 2 : 1)} %`;
}

/** "35 ms", "1.2 s", or "—" when it did not answer. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  return `${ms < 10 ? ms.toFixed(1).replace(/\.0$/, "") : Math.round(ms)} ms`;
}

/** A check result's details as "key: value" lines (nested values as JSON), in the order the checker wrote them. */
export function detailLines(details: unknown): { key: string; value: string }[] {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return [];
  return Object.entries(details as Record<string, unknown>).map(([key, v]) => ({
    key,
    value: typeof v === "string" ? v : JSON.stringify(v),
  }));
}

/**
 * The live views of the health pages, all under one registry entry: "health" (a viewer's /health), "health:admin"
 * (admins' checklist carries override forms; a region is rendered once for every subscriber of a view), and
 * "health:service:<id>:<days>" (one service's page with its timeline's range).
 */
export type HealthView = { page: "list"; admin: boolean } | { page: "service"; serviceId: number; days: number };

export function healthViewName(v: HealthView): string {
  if (v.page === "list") return v.admin ? "health:admin" : "health";
  return `health:service:${v.serviceId}:${v.days}`;
}

/** The inverse of healthViewName's parameter (after "health:"); undefined for anything else. */
export function parseHealthView(param: string | undefined): HealthView | undefined {
  if (param === undefined) return { page: "list", admin: false };
  if (param === "admin") return { page: "list", admin: true };
  const m = /^service:([1-9]\d{0,8}):(\d{1,2})$/.exec(param);
  if (!m || !(RANGE_DAYS as readonly number[]).includes(Number(m[2]))) return undefined;
  return { page: "service", serviceId: Number(m[1]), days: Number(m[2]) };
}

/** Where a unit's restart and log come from: the unit check's own unit, or a `unit:` log source. Null: nothing to restart. */
export function unitOf(s: Pick<ServiceRow, "kind" | "config" | "logSource">): string | null {
  if (s.kind === "unit" && typeof s.config.unit === "string") return s.config.unit;
  return s.logSource?.startsWith("unit:") ? s.logSource.slice(5) : null;
}

/** The log the viewer reads, as the API does: the service's log source, or a unit check's journal. */
export function logSourceOf(s: Pick<ServiceRow, "kind" | "config" | "logSource">): string | null {
  return s.logSource ?? (s.kind === "unit" && typeof s.config.unit === "string" ? `unit:${s.config.unit}` : null);
}
