// Warning and critical levels of the vitals people watch, and the level a value is at; the dashboard colours by them, alerts fire on them.
import type { RuleSet } from "./rules.ts";

export type Level = "ok" | "warning" | "critical" | "unknown";

export interface Threshold {
  warning: number;
  critical: number;
}

/** The gauges the dashboard colours. Percent of capacity for memory and power, °C for temperature. */
export interface Thresholds {
  utilization: Threshold;
  memoryPercent: Threshold;
  temperature: Threshold;
  powerPercent: Threshold;
}

/**
 * Defaults until a worker has its own (the alerts issue makes them per worker): a GPU above 85 °C
 * or with VRAM above 95 % is critical, as the dashboard issue asks these extremes to stand out.
 */
export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  utilization: { warning: 90, critical: 98 },
  memoryPercent: { warning: 85, critical: 95 },
  temperature: { warning: 80, critical: 85 },
  powerPercent: { warning: 90, critical: 98 },
});

export function levelOf(value: number | null | undefined, t: Threshold): Level {
  if (value === null || value === undefined || Number.isNaN(value)) return "unknown";
  if (value >= t.critical) return "critical";
  if (value >= t.warning) return "warning";
  return "ok";
}

/** The gauges' metric names in alert rules. */
const RULE_OF: Record<keyof Thresholds, string> = {
  utilization: "utilization",
  memoryPercent: "memoryPercent",
  temperature: "temperature",
  powerPercent: "powerPercent",
};

/**
 * The levels a worker's gauges are coloured by: its alert rules (the GPU's own, the worker's, the
 * global one), so a gauge turns red where an alert would fire. A gauge with no enabled rule rising
 * above keeps the defaults.
 */
export function dashboardThresholds(rules: Pick<RuleSet, "resolve">, workerId: number, gpuUuid: string | null = null): Thresholds {
  const out = { ...DEFAULT_THRESHOLDS };
  for (const key of Object.keys(RULE_OF) as (keyof Thresholds)[]) {
    const r = rules.resolve(RULE_OF[key], workerId, gpuUuid);
    if (!r || !r.enabled || r.direction !== "above" || (r.warning === null && r.critical === null)) continue;
    out[key] = { warning: r.warning ?? r.critical!, critical: r.critical ?? Number.POSITIVE_INFINITY };
  }
  return out;
}
