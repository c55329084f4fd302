// Warning and critical levels of the vitals people watch, and the level a value is at; the dashboard colours by them, alerts fire on them.

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
