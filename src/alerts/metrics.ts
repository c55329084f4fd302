// The metrics a threshold can watch: how each is read from a sample (derived percentages included), its unit and its words.
import type { GpuVitals, Sample } from "../protocol/sample.ts";

export type MetricScope = "gpu" | "host";

export interface AlertMetric {
  /** Name in rules and the API; host metrics carry a `host.` prefix (GPU and host both have a memoryPercent). */
  name: string;
  scope: MetricScope;
  unit: string;
  /** "GPU temperature", for notifications and the threshold editor. */
  label: string;
  readGpu?: (g: GpuVitals) => number | null;
  readHost?: (s: Sample) => number | null;
}

const pct = (part: number | null | undefined, whole: number | null | undefined): number | null =>
  part === null || part === undefined || !whole ? null : (part / whole) * 100;
const val = (v: number | null | undefined): number | null => (v === undefined || v === null || Number.isNaN(v) ? null : v);

const gpu = (name: string, unit: string, label: string, readGpu: (g: GpuVitals) => number | null): AlertMetric => ({
  name,
  scope: "gpu",
  unit,
  label,
  readGpu,
});
const host = (name: string, unit: string, label: string, readHost: (s: Sample) => number | null): AlertMetric => ({
  name: `host.${name}`,
  scope: "host",
  unit,
  label,
  readHost,
});

/** Every metric a threshold may name. Adding one is a line here; the API, the editor and the engine take it from this list. */
export const ALERT_METRICS: readonly AlertMetric[] = [
  gpu("utilization", "%", "GPU utilization", (g) => val(g.utilization)),
  gpu("memoryPercent", "%", "GPU memory (VRAM) used", (g) => pct(g.memoryUsed, g.memoryTotal)),
  gpu("memoryUsed", "MiB", "GPU memory used", (g) => val(g.memoryUsed)),
  gpu("temperature", "°C", "GPU temperature", (g) => val(g.temperature)),
  gpu("memoryTemperature", "°C", "GPU memory (HBM) temperature", (g) => val(g.memoryTemperature)),
  gpu("powerUsage", "W", "GPU power draw", (g) => val(g.powerUsage)),
  gpu("powerPercent", "%", "GPU power draw of its limit", (g) => pct(g.powerUsage, g.powerLimit)),
  gpu("fanSpeed", "%", "GPU fan speed", (g) => val(g.fanSpeed)),
  gpu("smClock", "MHz", "GPU SM clock", (g) => val(g.smClock)),
  gpu("eccCorrected", "errors", "GPU corrected ECC errors", (g) => val(g.eccCorrected)),
  gpu("pcieLinkWidth", "lanes", "GPU PCIe link width", (g) => val(g.pcieLinkWidth)),
  host("cpuPercent", "%", "host CPU busy", (s) => val(s.host.cpuPercent)),
  host("memoryPercent", "%", "host memory used", (s) => pct(s.host.memoryUsed, s.host.memoryTotal)),
  host("swapPercent", "%", "host swap used", (s) => pct(s.host.swapUsed, s.host.swapTotal)),
  host("diskPercent", "%", "fullest disk", (s) => {
    let worst: number | null = null;
    for (const d of s.host.disks) {
      const p = pct(d.used, d.total);
      if (p !== null && (worst === null || p > worst)) worst = p;
    }
    return worst;
  }),
  host("load1", "", "host load (1 min)", (s) => val(s.host.load?.[0])),
  host("cpuTemperature", "°C", "host CPU temperature", (s) => val(s.host.cpuTemperature)),
];

const BY_NAME = new Map(ALERT_METRICS.map((m) => [m.name, m]));

export function alertMetric(name: string): AlertMetric | undefined {
  return BY_NAME.get(name);
}
