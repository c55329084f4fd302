// Query parameters of the history API: ISO 8601 times, ranges, points, metric and GPU selectors; a bad one is a ParamError naming it.
import { ALL_METRICS, GPU_METRICS, HOST_METRICS, type MetricDef } from "./catalogue.ts";

/** A parameter that cannot be used; the route answers 400 with `{ error, parameter }`. */
export class ParamError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = "ParamError";
  }
}

export type Query = Record<string, string | undefined>;

/** Refuses parameters the endpoint does not know: a typo (`sinse=`) must not silently return the default range. */
export function onlyKnown(query: Query, known: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!known.includes(key)) throw new ParamError(key, `unknown parameter "${key}"; this endpoint takes ${known.join(", ")}`);
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const RELATIVE = /^-(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3600_000, d: 86400_000, w: 604800_000 } as const;

/**
 * An ISO 8601 time (`2026-11-23T10:00:00Z`; no offset means UTC; a date alone is its midnight UTC),
 * or a time relative to now for quick curl use (`-24h`, `-7d`).
 */
export function parseTime(raw: string, name: string, now: Date): Date {
  const v = raw.trim();
  const rel = RELATIVE.exec(v);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]);
  if (ISO.test(v)) {
    const hasZone = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(v) && v.length > 10;
    const normal = v.replace(" ", "T");
    const d = new Date(v.length === 10 ? `${normal}T00:00:00Z` : hasZone ? normal : `${normal}Z`);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new ParamError(name, `${name}="${raw}": expected an ISO 8601 time such as 2026-11-23T10:00:00Z, or a relative one such as -24h`);
}

export interface Range {
  since: Date;
  until: Date;
}

/** `since` and `until` with defaults: until now, since `defaultSpanMs` before until. */
export function parseRange(query: Query, now: Date, defaultSpanMs: number): Range {
  const until = query.until !== undefined ? parseTime(query.until, "until", now) : now;
  const since = query.since !== undefined ? parseTime(query.since, "since", now) : new Date(until.getTime() - defaultSpanMs);
  if (since.getTime() >= until.getTime()) {
    throw new ParamError("since", `since (${since.toISOString()}) must be before until (${until.toISOString()})`);
  }
  return { since, until };
}

export const MAX_POINTS = 10_000;
export const DEFAULT_POINTS = 1000;

export function parsePoints(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_POINTS;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_POINTS) {
    throw new ParamError("points", `points="${raw}": expected a whole number from 1 to ${MAX_POINTS}`);
  }
  return n;
}

export interface MetricSelection {
  gpu: readonly MetricDef[];
  host: readonly MetricDef[];
}

/**
 * `metrics=utilization,cpuPercent`: a name counts wherever it exists (`memoryUsed` is both a GPU
 * and a host metric); `gpu.memoryUsed` or `host.memoryUsed` picks one. Absent: every GPU metric,
 * and every host metric unless `withHost` is false (a caller who named GPUs asked about GPUs).
 */
export function parseMetrics(raw: string | undefined, withHost = true): MetricSelection {
  if (raw === undefined || raw.trim() === "") return { gpu: GPU_METRICS, host: withHost ? HOST_METRICS : [] };
  const gpu = new Set<MetricDef>();
  const host = new Set<MetricDef>();
  for (const item of raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [scope, name] = item.includes(".") ? (item.split(".", 2) as [string, string]) : [undefined, item];
    if (scope !== undefined && scope !== "gpu" && scope !== "host") {
      throw new ParamError("metrics", `metrics: "${item}": the prefix must be gpu. or host.`);
    }
    const found = ALL_METRICS.filter((m) => m.name === name && (scope === undefined || m.scope === scope));
    if (found.length === 0) {
      throw new ParamError(
        "metrics",
        `metrics: unknown metric "${item}"; known: ${[...new Set(ALL_METRICS.map((m) => m.name))].join(", ")}`,
      );
    }
    for (const m of found) (m.scope === "gpu" ? gpu : host).add(m);
  }
  // Kept in catalogue order, so columns come out the same whatever order they were asked in.
  return { gpu: GPU_METRICS.filter((m) => gpu.has(m)), host: HOST_METRICS.filter((m) => host.has(m)) };
}

export interface GpuRef {
  id: number;
  index: number;
  uuid: string;
  name: string;
}

/** `gpu=0,1` (indexes) or `gpu=GPU-…` (UUIDs); absent or `all`: every GPU of the worker. */
export function parseGpus(raw: string | undefined, gpus: readonly GpuRef[]): GpuRef[] {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "all") return [...gpus];
  const out: GpuRef[] = [];
  for (const item of raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const g = /^\d+$/.test(item) ? gpus.find((x) => x.index === Number(item)) : gpus.find((x) => x.uuid === item);
    if (!g) {
      const have = gpus.length ? gpus.map((x) => x.index).join(", ") : "none";
      throw new ParamError("gpu", `gpu: this worker has no GPU "${item}" (its GPUs: ${have}); give indexes or UUIDs, comma-separated`);
    }
    if (!out.includes(g)) out.push(g);
  }
  return out.sort((a, b) => a.index - b.index);
}

export type Format = "json" | "csv";

/** `?format=csv` or `Accept: text/csv` (named explicitly, not through a wildcard). */
export function parseFormat(raw: string | undefined, accept: string | null | undefined): Format {
  if (raw !== undefined) {
    const v = raw.trim().toLowerCase();
    if (v === "csv" || v === "json") return v;
    throw new ParamError("format", `format="${raw}": expected csv or json`);
  }
  return accept && /(^|,)\s*text\/csv\b/i.test(accept) ? "csv" : "json";
}
