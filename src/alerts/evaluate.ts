// The alert state machine as pure functions: a value's level with hysteresis, one step of an alert's state, and what to tell channels.
import type { NotificationEvent, Severity } from "./notification.ts";

export type Level = "ok" | Severity;
export type Direction = "above" | "below";

export interface Levels {
  direction: Direction;
  warning: number | null;
  critical: number | null;
  hysteresis: number;
}

/** Whether `v` is at `level` or past it; a level already held only clears once `v` is back past it by the hysteresis. */
function reaches(v: number, level: number | null, dir: Direction, hysteresis: number, held: boolean): boolean {
  if (level === null) return false;
  const margin = held ? hysteresis : 0;
  return dir === "above" ? v >= level - margin : v <= level + margin;
}

/** The level of a value given the level it had: critical and warning each hold until the value is back past them by the margin. */
export function levelOf(v: number, rule: Levels, current: Level): Level {
  if (reaches(v, rule.critical, rule.direction, rule.hysteresis, current === "critical")) return "critical";
  if (reaches(v, rule.warning, rule.direction, rule.hysteresis, current !== "ok")) return "warning";
  return "ok";
}

export type OpenState = "pending" | "firing" | "nodata";

/** An alert that is not resolved: the engine's state for one rule and subject, mirrored in the `alerts` table. */
export interface OpenAlert {
  id: number | null;
  rule: string;
  subject: string;
  /** Null for the health of a service checked from the head. */
  workerId: number | null;
  /** The service a `health:` alert is about. */
  serviceId: number | null;
  gpuUuid: string | null;
  gpuIndex: number | null;
  state: OpenState;
  /** What it was before data stopped; it goes back to that (not to "resolved") when data returns. */
  stateBeforeNodata: "pending" | "firing" | null;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  startedAt: number;
  firedAt: number | null;
  /** The severity channels were last told, null if they never were (silenced, cooldown). */
  notifiedSeverity: Severity | null;
  notifiedAt: number | null;
  tier: number;
  ackedAt: number | null;
  ackedBy: string | null;
}

/** What was observed for the subject: a level with the value behind it, or nothing (worker offline, GPU gone, metric absent). */
export type Observation = { kind: "value"; level: Level; value: number | null; threshold: number | null } | { kind: "nodata" };

/** A state change worth a row in alert_events. */
export type TransitionKind = "pending" | "firing" | "escalated" | "deescalated" | "nodata" | "resolved" | "dropped";

export interface Step {
  /** The alert after the step; null when it closed (resolved, or pending that cleared before firing). */
  next: OpenAlert | null;
  transition: TransitionKind | null;
  /** The alert as it closed (state of the row to write) when `next` is null. */
  closed?: OpenAlert;
}

export interface Subject {
  rule: string;
  subject: string;
  workerId: number | null;
  serviceId?: number | null;
  gpuUuid: string | null;
  gpuIndex: number | null;
}

/**
 * One step: ok → pending → firing (after `forMs`) → resolved; warning ↔ critical while firing is
 * an escalation of the same alert; no data parks the alert in `nodata`, which is never a resolve.
 */
export function step(cur: OpenAlert | null, subject: Subject, obs: Observation, now: number, forMs: number): Step {
  if (obs.kind === "nodata") {
    if (!cur || cur.state === "nodata") return { next: cur, transition: null };
    return { next: { ...cur, state: "nodata", stateBeforeNodata: cur.state }, transition: "nodata" };
  }
  const { level, value, threshold } = obs;
  if (level === "ok") {
    if (!cur) return { next: null, transition: null };
    const was = cur.state === "nodata" ? cur.stateBeforeNodata : cur.state;
    const closed = { ...cur, value, state: cur.state };
    return { next: null, closed, transition: was === "firing" ? "resolved" : "dropped" };
  }
  if (!cur) {
    const base: OpenAlert = {
      ...subject,
      serviceId: subject.serviceId ?? null,
      id: null,
      state: "pending",
      stateBeforeNodata: null,
      severity: level,
      value,
      threshold,
      startedAt: now,
      firedAt: null,
      notifiedSeverity: null,
      notifiedAt: null,
      tier: 1,
      ackedAt: null,
      ackedBy: null,
    };
    if (forMs <= 0) return { next: { ...base, state: "firing", firedAt: now }, transition: "firing" };
    return { next: base, transition: "pending" };
  }
  const state = cur.state === "nodata" ? (cur.stateBeforeNodata ?? "pending") : cur.state;
  const moved: OpenAlert = { ...cur, state, stateBeforeNodata: null, value, threshold };
  if (state === "pending") {
    moved.severity = level;
    if (now - cur.startedAt >= forMs) return { next: { ...moved, state: "firing", firedAt: now }, transition: "firing" };
    return { next: moved, transition: null };
  }
  if (level !== cur.severity) {
    return { next: { ...moved, severity: level }, transition: level === "critical" ? "escalated" : "deescalated" };
  }
  return { next: moved, transition: null };
}

export interface TellPolicy {
  /** Why channels must not hear of this alert now: `silenced`, `maintenance`, or `cooldown`; null when they may. */
  suppressedBy: string | null;
  repeatMs: number;
  /** Minutes unacknowledged before the next tier hears of it (0: never), as ms. */
  escalationMs: number;
  /** The highest channel tier configured. */
  maxTier: number;
}

export type Tell = { event: NotificationEvent; tier: number } | { suppressed: string };

/**
 * What channels should hear about an open alert now, given what they were last told: a firing not
 * yet told, a severity change, an escalation to the next tier, or a repeat. Null: nothing to say.
 */
export function tellFor(a: OpenAlert, now: number, p: TellPolicy): Tell | null {
  if (a.state !== "firing") return null;
  const sevChanged = a.notifiedSeverity !== null && a.notifiedSeverity !== a.severity;
  if (a.notifiedSeverity === null || sevChanged) {
    if (p.suppressedBy) return { suppressed: p.suppressedBy };
    if (a.notifiedSeverity === null) return { event: "firing", tier: a.tier };
    return { event: a.severity === "critical" ? "escalated" : "deescalated", tier: a.tier };
  }
  if (a.ackedAt !== null || p.suppressedBy) return null;
  const firedAt = a.firedAt ?? a.startedAt;
  if (p.escalationMs > 0 && a.tier < p.maxTier && now - firedAt >= p.escalationMs * a.tier)
    return { event: "escalation", tier: a.tier + 1 };
  if (p.repeatMs > 0 && a.notifiedAt !== null && now - a.notifiedAt >= p.repeatMs) return { event: "repeat", tier: a.tier };
  return null;
}
