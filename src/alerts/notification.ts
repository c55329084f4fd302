// What a channel is asked to deliver: one alert transition, as data (the generic webhook's JSON body) and as one line of text.

export type Severity = "warning" | "critical";

/**
 * The transition being told. `firing` opens an alert (after its `for` duration); `escalated` and
 * `deescalated` move a firing alert between warning and critical (the same alert, not a new one);
 * `repeat` re-tells a still-firing alert after the repeat interval; `escalation` hands an
 * unacknowledged alert to the next channel tier; `resolved` is the recovery; `test` is a channel's
 * "send test" action.
 */
export type NotificationEvent = "firing" | "escalated" | "deescalated" | "repeat" | "escalation" | "resolved" | "test";

export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  "firing",
  "escalated",
  "deescalated",
  "repeat",
  "escalation",
  "resolved",
  "test",
];

/**
 * The document a channel receives. The generic webhook posts exactly this as JSON; the other
 * channels format `title` and `text` for their service. Worker and GPU names come from agents:
 * channels that render markup must escape them (the plain-text fields here are not escaped).
 */
export interface AlertNotification {
  /** Unique per (transition, channel): receivers can drop a redelivery with the same id. */
  id: string;
  event: NotificationEvent;
  /** The alert's level at this transition; for `resolved`, the level it had last. */
  severity: Severity;
  /** When the transition happened (ISO 8601). */
  at: string;
  /** One plain-text line: "CRITICAL gpu-07 GPU 3: temperature 88 °C (critical at 85 °C)". */
  title: string;
  /** A few plain-text lines with the details (value, threshold, since when, link). */
  text: string;
  alert: {
    id: number;
    /** Rule key: `threshold:<metric>` or `builtin:<kind>`. */
    rule: string;
    /** The rule in words: "GPU temperature", "worker offline". */
    ruleName: string;
    state: "pending" | "firing" | "resolved" | "nodata";
    worker: { id: number; name: string };
    /** Null for host- and worker-level alerts. */
    gpu: { index: number; uuid: string; name: string } | null;
    /** The metric's value that caused the transition; null when none applies (offline). */
    value: number | null;
    /** The threshold crossed (warning or critical level), null for built-in rules without one. */
    threshold: number | null;
    unit: string;
    /** When the condition was first seen (pending start) and when it fired (ISO 8601). */
    startedAt: string;
    firedAt: string | null;
    resolvedAt: string | null;
    /** The alert on the dashboard, absolute when VIGIL_PUBLIC_URL is set, else a path. */
    url: string;
  };
}
