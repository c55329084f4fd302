// Builds the notification document of an alert transition: the same words on every channel, in plain text (channels escape for their markup).
import type { OpenAlert } from "./evaluate.ts";
import { alertMetric } from "./metrics.ts";
import type { AlertNotification, NotificationEvent, Severity } from "./notification.ts";
import { BUILTIN_DEFAULTS } from "./rules.ts";

export interface AlertNames {
  /** The worker's name, or for a service's health the service's name. */
  workerName: string;
  gpuName: string | null;
  /** What the last check said (service health), for the notification's text. */
  detail?: string | null;
}

export function ruleLabel(rule: string): { label: string; unit: string } {
  if (rule === "health:service") return { label: "service health", unit: "ms" };
  if (rule.startsWith("threshold:")) {
    const m = alertMetric(rule.slice("threshold:".length));
    return { label: m?.label ?? rule.slice("threshold:".length), unit: m?.unit ?? "" };
  }
  const b = BUILTIN_DEFAULTS.find((d) => `builtin:${d.kind}` === rule);
  return { label: b?.label ?? rule, unit: rule === "builtin:ecc" ? "errors" : rule === "builtin:idle_allocation" ? "%" : "" };
}

const fmt = (v: number | null, unit: string): string => {
  if (v === null) return "no value";
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${n.replace(/\.0+$/, "")} ${unit}` : n.replace(/\.0+$/, "");
};

const VERB: Record<NotificationEvent, string> = {
  firing: "firing",
  escalated: "now critical",
  deescalated: "down to warning",
  repeat: "still firing",
  escalation: "unacknowledged, escalated",
  resolved: "resolved",
  test: "test",
};

/** The alert's subject in words: "gpu-07 GPU 3 (NVIDIA H100)" or "gpu-07". */
export function subjectText(a: Pick<OpenAlert, "gpuIndex">, names: AlertNames): string {
  return a.gpuIndex === null ? names.workerName : `${names.workerName} GPU ${a.gpuIndex}`;
}

export function notificationFor(
  a: OpenAlert & { resolvedAt?: number | null },
  event: NotificationEvent,
  deliveryId: string,
  at: number,
  names: AlertNames,
  baseUrl: string,
  /** The severity to report (for a recovery: the one last told). */
  severity: Severity = a.severity,
): AlertNotification {
  const { label, unit } = ruleLabel(a.rule);
  const head = event === "resolved" ? "RESOLVED" : severity.toUpperCase();
  const subject = subjectText(a, names);
  const levelText = a.threshold !== null ? ` (${severity} at ${fmt(a.threshold, unit)})` : "";
  const valueText = a.value !== null ? `: ${fmt(a.value, unit)}` : "";
  const service = a.rule === "health:service";
  const health = severity === "critical" ? "down" : "degraded";
  const title = service
    ? `${head} ${subject}: ${event === "resolved" ? "healthy again" : `${health}${names.detail ? ` (${names.detail})` : ""}`}`
    : `${head} ${subject}: ${label}${event === "resolved" ? "" : valueText + levelText}${event === "firing" || event === "resolved" ? "" : ` (${VERB[event]})`}`;
  const url = service ? `${baseUrl.replace(/\/$/, "")}/health/${a.serviceId}` : `${baseUrl.replace(/\/$/, "")}/alerts#alert-${a.id}`;
  const lines = [
    `${label} on ${subject} is ${VERB[event]}.`,
    service && names.detail ? `Last check: ${names.detail}.` : null,
    !service && a.value !== null
      ? `Value: ${fmt(a.value, unit)}${a.threshold !== null ? `, ${severity} level ${fmt(a.threshold, unit)}` : ""}.`
      : null,
    names.gpuName && a.gpuUuid ? `GPU: ${names.gpuName} (${a.gpuUuid}).` : null,
    `Since ${new Date(a.startedAt).toISOString()}${a.resolvedAt ? `, resolved ${new Date(a.resolvedAt).toISOString()}` : ""}.`,
    `Open: ${url}`,
  ].filter((l): l is string => l !== null);
  return {
    id: deliveryId,
    event,
    severity,
    at: new Date(at).toISOString(),
    title,
    text: lines.join("\n"),
    alert: {
      id: a.id ?? 0,
      rule: a.rule,
      ruleName: label,
      state: event === "resolved" ? "resolved" : a.state,
      worker: { id: a.workerId ?? 0, name: names.workerName },
      gpu: a.gpuUuid !== null && a.gpuIndex !== null ? { index: a.gpuIndex, uuid: a.gpuUuid, name: names.gpuName ?? "" } : null,
      value: a.value,
      threshold: a.threshold,
      unit,
      startedAt: new Date(a.startedAt).toISOString(),
      firedAt: a.firedAt !== null ? new Date(a.firedAt).toISOString() : null,
      resolvedAt: a.resolvedAt ? new Date(a.resolvedAt).toISOString() : null,
      url,
    },
  };
}
