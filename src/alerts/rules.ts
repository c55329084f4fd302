// The rules the engine applies: thresholds (most specific scope wins), the built-in rules with their defaults, and the alert settings.
import type { Db } from "../db/client.ts";
import { alertSettings, builtinRules, thresholds } from "../db/schema/index.ts";
import type { Direction, Levels } from "./evaluate.ts";
import type { Severity } from "./notification.ts";

export interface ThresholdRule extends Levels {
  id: number;
  metric: string;
  scope: string;
  workerId: number | null;
  gpuUuid: string | null;
  forSeconds: number;
  enabled: boolean;
}

export const scopeKey = (workerId: number | null, gpuUuid: string | null): string =>
  workerId === null ? "global" : gpuUuid === null ? `worker:${workerId}` : `gpu:${workerId}:${gpuUuid}`;

export type BuiltinKind = "offline" | "gpu_lost" | "throttle" | "ecc" | "idle_allocation";

export interface BuiltinRule {
  kind: BuiltinKind;
  label: string;
  help: string;
  enabled: boolean;
  severity: Severity;
  forSeconds: number;
  params: Record<string, number>;
}

/** Built-in rules as shipped; a row in builtin_rules overrides any field. */
export const BUILTIN_DEFAULTS: readonly BuiltinRule[] = [
  {
    kind: "offline",
    label: "worker offline",
    help: "no sample for 10 intervals (at least 60 s); the worker's other alerts wait in 'no data' meanwhile",
    enabled: true,
    severity: "critical",
    forSeconds: 0,
    params: {},
  },
  {
    kind: "gpu_lost",
    label: "GPU lost",
    help: "a GPU fell off the bus (NVML: GPU is lost) or vanished from the worker's samples",
    enabled: true,
    severity: "critical",
    forSeconds: 0,
    params: {},
  },
  {
    kind: "throttle",
    label: "GPU throttling",
    help: "thermal or hardware slowdown (and, with includePowerCap = 1, the software power cap) active for the duration",
    enabled: true,
    severity: "warning",
    forSeconds: 120,
    params: { includePowerCap: 0 },
  },
  {
    kind: "ecc",
    label: "uncorrected ECC errors",
    help: "the uncorrected ECC error count went up; clears after clearAfterSeconds without a further increase",
    enabled: true,
    severity: "critical",
    forSeconds: 0,
    params: { clearAfterSeconds: 86_400 },
  },
  {
    kind: "idle_allocation",
    label: "idle GPU memory allocation",
    help: "VRAM held above memoryPercent while utilization stays at or below utilization for the duration: a job holding a GPU it does not use",
    enabled: true,
    severity: "warning",
    forSeconds: 1_800,
    params: { memoryPercent: 10, utilization: 0 },
  },
];

export interface AlertSettings {
  /** After a firing notification, the same rule and subject stay quiet this long if they fire again. */
  cooldownSeconds: number;
  /** Re-tell a still-firing, unacknowledged alert this often (0: never). */
  repeatSeconds: number;
  /** Hand an unacknowledged alert to the next channel tier after this long, per tier (0: never). */
  escalationMinutes: number;
}

export const DEFAULT_SETTINGS: AlertSettings = Object.freeze({ cooldownSeconds: 300, repeatSeconds: 0, escalationMinutes: 30 });

/** The rule set the engine evaluates with, loaded in one go and swapped whole when an admin changes it. */
export class RuleSet {
  private byMetricScope = new Map<string, ThresholdRule>();
  readonly metrics: readonly string[];
  readonly builtins: ReadonlyMap<BuiltinKind, BuiltinRule>;

  constructor(
    readonly thresholds: readonly ThresholdRule[],
    builtinOverrides: readonly Partial<BuiltinRule>[] = [],
    readonly settings: AlertSettings = DEFAULT_SETTINGS,
  ) {
    for (const t of thresholds) this.byMetricScope.set(`${t.metric}|${t.scope}`, t);
    this.metrics = [...new Set(thresholds.map((t) => t.metric))];
    const builtins = new Map<BuiltinKind, BuiltinRule>();
    for (const d of BUILTIN_DEFAULTS) {
      const o = builtinOverrides.find((b) => b.kind === d.kind);
      builtins.set(d.kind, o ? { ...d, ...stripUndefined(o), params: { ...d.params, ...(o.params ?? {}) } } : d);
    }
    this.builtins = builtins;
  }

  /** The rule for a metric on a subject: the GPU's own, else the worker's, else the global one. */
  resolve(metric: string, workerId: number, gpuUuid: string | null): ThresholdRule | undefined {
    return (
      (gpuUuid !== null ? this.byMetricScope.get(`${metric}|${scopeKey(workerId, gpuUuid)}`) : undefined) ??
      this.byMetricScope.get(`${metric}|${scopeKey(workerId, null)}`) ??
      this.byMetricScope.get(`${metric}|global`)
    );
  }

  builtin(kind: BuiltinKind): BuiltinRule {
    return this.builtins.get(kind)!;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

export function thresholdRuleOf(row: typeof thresholds.$inferSelect): ThresholdRule {
  return {
    id: row.id,
    metric: row.metric,
    scope: row.scope,
    workerId: row.workerId,
    gpuUuid: row.gpuUuid,
    direction: row.direction === "below" ? "below" : ("above" as Direction),
    warning: row.warning,
    critical: row.critical,
    hysteresis: row.hysteresis,
    forSeconds: row.forSeconds,
    enabled: row.enabled,
  };
}

export async function loadSettings(db: Db): Promise<AlertSettings> {
  const rows = await db.select().from(alertSettings);
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const r of rows) if (r.key in DEFAULT_SETTINGS && typeof r.value === "number") out[r.key] = r.value;
  return out as unknown as AlertSettings;
}

export async function loadRules(db: Db): Promise<RuleSet> {
  const [rows, builtinRows, settings] = await Promise.all([db.select().from(thresholds), db.select().from(builtinRules), loadSettings(db)]);
  const overrides: Partial<BuiltinRule>[] = builtinRows.map((b) => ({
    kind: b.kind as BuiltinKind,
    enabled: b.enabled,
    severity: b.severity === "critical" ? "critical" : "warning",
    forSeconds: b.forSeconds,
    params: b.params,
  }));
  return new RuleSet(rows.map(thresholdRuleOf), overrides, settings);
}

/** Warning before critical in the rule's direction; at least one level; non-negative durations. Returns what is wrong, in words. */
export function checkLevels(r: {
  direction: Direction;
  warning: number | null;
  critical: number | null;
  forSeconds?: number;
  hysteresis?: number;
}): string[] {
  const errors: string[] = [];
  if (r.warning === null && r.critical === null) errors.push("give a warning level, a critical level, or both");
  if (r.warning !== null && r.critical !== null) {
    if (r.direction === "above" && r.warning > r.critical)
      errors.push(`warning (${r.warning}) must not be above critical (${r.critical}) for a rule that fires above`);
    if (r.direction === "below" && r.warning < r.critical)
      errors.push(`warning (${r.warning}) must not be below critical (${r.critical}) for a rule that fires below`);
  }
  if ((r.forSeconds ?? 0) < 0) errors.push("for must be 0 seconds or more");
  if ((r.hysteresis ?? 0) < 0) errors.push("hysteresis must be 0 or more");
  return errors;
}
