// What the alerts page's regions render from, and the small pure helpers they share (values with units, quiet reasons, rule choices, the live view's filter).
import type { OpenAlert } from "../../../src/alerts/evaluate.ts";
import { ALERT_METRICS } from "../../../src/alerts/metrics.ts";
import type { Severity } from "../../../src/alerts/notification.ts";
import { BUILTIN_DEFAULTS } from "../../../src/alerts/rules.ts";
import type { SilenceRow } from "../../../src/alerts/store.ts";
import type { WorkerStatus } from "../../../src/fleet/workers.ts";

/** An open alert (pending, firing or no data) with what the page says about it besides the engine's state. */
export interface OpenAlertView {
  alert: OpenAlert & { id: number };
  workerName: string;
  /** The worker's status now; undefined when the worker is gone. */
  workerStatus: WorkerStatus | undefined;
  /** The GPU's model, when the alert is about a GPU the head knows. */
  gpuName: string | null;
  /** Why channels must stay quiet about it now (silenced, maintenance, cooldown), or null. */
  quiet: string | null;
  /** Pending: when it fires if the condition holds (epoch ms); null when its rule is gone. */
  firesAt: number | null;
  /** No data: since when (epoch ms), from its `nodata` event; null when unknown. */
  nodataSince: number | null;
}

/** A silence or maintenance window with the worker's name (null: every worker). */
export interface SilenceView {
  row: SilenceRow;
  workerName: string | null;
}

/** Everything the live regions of the alerts page are a pure function of. */
export interface AlertsRegionProps {
  now: number;
  firing: readonly OpenAlertView[];
  pending: readonly OpenAlertView[];
  nodata: readonly OpenAlertView[];
  silences: readonly SilenceView[];
  /** Admins get the Acknowledge and Cancel buttons; the routes refuse anyone else anyway. */
  admin: boolean;
}

/** What the page (and so its live view) is narrowed to: `?worker=` and `?rule=`. */
export interface AlertFilter {
  workerId: number | null;
  rule: string | null;
}

export const RULE_PATTERN = /^(?:threshold|builtin):[A-Za-z0-9_.]{1,60}$/;

/**
 * The live view of the page: "alerts" for a viewer without filters, else "alerts:<admin|viewer>[:w<id>][:<rule>]". The
 * role is part of the name because a region is rendered once for every subscriber of the view: admins' rows carry buttons.
 */
export function alertsViewName(admin: boolean, f: AlertFilter): string {
  const parts = [admin ? "admin" : "viewer"];
  if (f.workerId !== null) parts.push(`w${f.workerId}`);
  if (f.rule !== null) parts.push(f.rule);
  return parts.length === 1 && !admin ? "alerts" : `alerts:${parts.join(":")}`;
}

/** The inverse of alertsViewName's parameter (after "alerts:"); undefined for anything else. */
export function parseAlertsView(param: string | undefined): { admin: boolean; filter: AlertFilter } | undefined {
  if (param === undefined) return { admin: false, filter: { workerId: null, rule: null } };
  const m = /^(admin|viewer)(?::w([1-9]\d{0,9}))?(?::(.+))?$/.exec(param);
  if (!m || (m[3] !== undefined && !RULE_PATTERN.test(m[3]))) return undefined;
  return { admin: m[1] === "admin", filter: { workerId: m[2] ? Number(m[2]) : null, rule: m[3] ?? null } };
}

/** A reading with its unit, as notifications write it: "91 °C", "0.52"; "—" for none (offline, GPU lost). */
export function formatValue(v: number | null, unit: string): string {
  if (v === null) return "—";
  const n = (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\.0+$/, "");
  return unit ? `${n} ${unit}` : n;
}

export function worstSeverity(alerts: readonly Pick<OpenAlert, "severity">[]): Severity | null {
  if (alerts.length === 0) return null;
  return alerts.some((a) => a.severity === "critical") ? "critical" : "warning";
}

/** Why channels were not told, in words. */
export const QUIET_WORDS: Record<string, string> = {
  silenced: "silenced",
  maintenance: "maintenance window",
  cooldown: "cooldown: it fired and was told a short while ago",
  "never-told": "it was never told",
};

/** Every rule an alert may come from, for the filter and the silence form: built-in rules first, then the threshold metrics. */
export function ruleChoices(): { value: string; label: string }[] {
  return [
    ...BUILTIN_DEFAULTS.map((b) => ({ value: `builtin:${b.kind}`, label: b.label })),
    ...ALERT_METRICS.map((m) => ({ value: `threshold:${m.name}`, label: m.label })),
  ];
}
