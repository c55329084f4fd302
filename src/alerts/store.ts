// Alert configuration and history as plain functions over the database: thresholds, built-in rules, settings, silences, channels, alerts, deliveries.
import { and, desc, eq, gt, isNull, lt, sql, type SQL } from "drizzle-orm";
import { audit, type Actor } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import type { Db } from "../db/client.ts";
import {
  alertEvents,
  alerts,
  alertSettings,
  builtinRules,
  channels,
  deliveries,
  gpus,
  services,
  silences,
  thresholds,
  workers,
} from "../db/schema/index.ts";
import { CHANNEL_KINDS, isChannelKind, keepMaskedSecrets, maskSecrets, validateConfig } from "../notifiers/registry.ts";
import { alertMetric } from "./metrics.ts";
import { BUILTIN_DEFAULTS, checkLevels, DEFAULT_SETTINGS, loadSettings, scopeKey, type AlertSettings, type BuiltinKind } from "./rules.ts";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (
  v: unknown,
  field: string,
  opts: { min?: number; max?: number; nullable?: boolean; integer?: boolean } = {},
): number | null => {
  if ((v === null || v === undefined || v === "") && opts.nullable) return null;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new InputError(`${field}: expected a number`);
  if (opts.integer && !Number.isInteger(n)) throw new InputError(`${field}: expected a whole number`);
  if (opts.min !== undefined && n < opts.min) throw new InputError(`${field}: must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) throw new InputError(`${field}: must be at most ${opts.max}`);
  return n;
};
const bool = (v: unknown, dflt: boolean): boolean => (v === undefined ? dflt : v === true || v === "true" || v === "on" || v === "1");

async function workerExists(db: Db, id: number): Promise<string> {
  const [w] = await db.select({ name: workers.name }).from(workers).where(eq(workers.id, id));
  if (!w) throw new InputError(`no worker with id ${id}`);
  return w.name;
}

// ---- thresholds ----

export type ThresholdRow = typeof thresholds.$inferSelect;

export async function listThresholds(db: Db): Promise<ThresholdRow[]> {
  return db.select().from(thresholds).orderBy(thresholds.metric, thresholds.scope);
}

/** Creates or replaces the rule for (metric, scope). Input as JSON or form fields; errors say what to fix. */
export async function saveThreshold(db: Db, actor: Actor, input: unknown): Promise<ThresholdRow> {
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const metric = String(input.metric ?? "");
  const m = alertMetric(metric);
  if (!m) throw new InputError(`metric: unknown metric "${metric}"; see GET /api/v1/thresholds for the list`);
  const workerId = num(input.workerId, "workerId", { nullable: true, integer: true, min: 1 });
  const gpuUuid = input.gpuUuid === undefined || input.gpuUuid === null || input.gpuUuid === "" ? null : String(input.gpuUuid);
  if (gpuUuid !== null && workerId === null) throw new InputError("gpuUuid: a per-GPU rule also needs its workerId");
  if (gpuUuid !== null && m.scope === "host") throw new InputError(`gpuUuid: ${metric} is a host metric; a per-GPU rule makes no sense`);
  if (workerId !== null) await workerExists(db, workerId);
  if (gpuUuid !== null) {
    const [g] = await db
      .select({ id: gpus.id })
      .from(gpus)
      .where(and(eq(gpus.workerId, workerId!), eq(gpus.uuid, gpuUuid)));
    if (!g) throw new InputError(`gpuUuid: worker ${workerId} has no GPU ${gpuUuid}`);
  }
  const direction = input.direction === undefined || input.direction === "" ? "above" : String(input.direction);
  if (direction !== "above" && direction !== "below") throw new InputError("direction: expected above or below");
  const warning = num(input.warning, "warning", { nullable: true });
  const critical = num(input.critical, "critical", { nullable: true });
  const forSeconds = num(input.forSeconds ?? 0, "forSeconds", { integer: true, min: 0, max: 7 * 86_400 })!;
  const hysteresis = num(input.hysteresis ?? 0, "hysteresis", { min: 0 })!;
  const errors = checkLevels({ direction, warning, critical, forSeconds, hysteresis });
  if (errors.length) throw new InputError(errors.join("; "));
  const values = {
    metric,
    scope: scopeKey(workerId, gpuUuid),
    workerId,
    gpuUuid,
    direction,
    warning,
    critical,
    forSeconds,
    hysteresis,
    enabled: bool(input.enabled, true),
    updatedAt: new Date(),
    updatedBy: actor.label,
  };
  const [row] = await db
    .insert(thresholds)
    .values(values)
    .onConflictDoUpdate({ target: [thresholds.metric, thresholds.scope], set: values })
    .returning();
  await audit(db, actor, {
    action: "threshold.save",
    target: `${metric}@${values.scope}`,
    details: { warning, critical, forSeconds, hysteresis, enabled: values.enabled },
  });
  return row!;
}

export async function deleteThreshold(db: Db, actor: Actor, id: number): Promise<void> {
  const [row] = await db.delete(thresholds).where(eq(thresholds.id, id)).returning();
  if (!row) throw new InputError(`no threshold with id ${id}`);
  await audit(db, actor, { action: "threshold.delete", target: `${row.metric}@${row.scope}` });
}

// ---- built-in rules and settings ----

export async function listBuiltins(db: Db) {
  const rows = await db.select().from(builtinRules);
  return BUILTIN_DEFAULTS.map((d) => {
    const r = rows.find((x) => x.kind === d.kind);
    return r
      ? {
          ...d,
          enabled: r.enabled,
          severity: r.severity === "critical" ? "critical" : "warning",
          forSeconds: r.forSeconds,
          params: { ...d.params, ...r.params },
        }
      : d;
  });
}

export async function saveBuiltin(db: Db, actor: Actor, kind: string, input: unknown): Promise<void> {
  const d = BUILTIN_DEFAULTS.find((b) => b.kind === kind);
  if (!d) throw new InputError(`no built-in rule "${kind}" (known: ${BUILTIN_DEFAULTS.map((b) => b.kind).join(", ")})`);
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const current = (await listBuiltins(db)).find((b) => b.kind === kind)!;
  const severity = input.severity === undefined ? current.severity : String(input.severity);
  if (severity !== "warning" && severity !== "critical") throw new InputError("severity: expected warning or critical");
  const params: Record<string, number> = { ...current.params };
  if (isObj(input.params))
    for (const [k, v] of Object.entries(input.params)) {
      if (!(k in d.params))
        throw new InputError(`params.${k}: ${kind} has no such parameter (it has: ${Object.keys(d.params).join(", ") || "none"})`);
      params[k] = num(v, `params.${k}`, { min: 0 })!;
    }
  const values = {
    kind: d.kind as BuiltinKind,
    enabled: bool(input.enabled, current.enabled),
    severity,
    forSeconds:
      input.forSeconds === undefined
        ? current.forSeconds
        : num(input.forSeconds, "forSeconds", { integer: true, min: 0, max: 7 * 86_400 })!,
    params,
    updatedAt: new Date(),
    updatedBy: actor.label,
  };
  await db.insert(builtinRules).values(values).onConflictDoUpdate({ target: builtinRules.kind, set: values });
  await audit(db, actor, {
    action: "builtin.save",
    target: kind,
    details: { enabled: values.enabled, severity, forSeconds: values.forSeconds, params },
  });
}

export { loadSettings };

export async function saveSettings(db: Db, actor: Actor, input: unknown): Promise<AlertSettings> {
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const limits: Record<keyof AlertSettings, number> = { cooldownSeconds: 86_400, repeatSeconds: 7 * 86_400, escalationMinutes: 7 * 1440 };
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_SETTINGS)) throw new InputError(`${key}: no such setting (settings: ${Object.keys(DEFAULT_SETTINGS).join(", ")})`);
    const value = num(input[key], key, { integer: true, min: 0, max: limits[key as keyof AlertSettings] })!;
    await db
      .insert(alertSettings)
      .values({ key, value, updatedBy: actor.label })
      .onConflictDoUpdate({ target: alertSettings.key, set: { value, updatedAt: new Date(), updatedBy: actor.label } });
  }
  const settings = await loadSettings(db);
  await audit(db, actor, { action: "alerts.settings", details: { ...settings } });
  return settings;
}

// ---- silences and maintenance windows ----

export type SilenceRow = typeof silences.$inferSelect;

/** Silences and windows not over yet (and, with `all`, the ended ones too), soonest ending first. */
export async function listSilences(db: Db, now = new Date(), all = false): Promise<SilenceRow[]> {
  const q = db.select().from(silences);
  return (all ? q : q.where(and(isNull(silences.cancelledAt), gt(silences.endsAt, now)))).orderBy(silences.endsAt);
}

export async function addSilence(db: Db, actor: Actor, input: unknown, now = new Date()): Promise<SilenceRow> {
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const kind = input.kind === undefined || input.kind === "" ? "silence" : String(input.kind);
  if (kind !== "silence" && kind !== "maintenance") throw new InputError("kind: expected silence or maintenance");
  const workerId = num(input.workerId, "workerId", { nullable: true, integer: true, min: 1 });
  if (workerId !== null) await workerExists(db, workerId);
  if (kind === "maintenance" && workerId === null) throw new InputError("workerId: a maintenance window is for one worker");
  const time = (v: unknown, field: string): Date | null => {
    if (v === undefined || v === null || v === "") return null;
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new InputError(`${field}: not a time (use ISO 8601, e.g. 2026-11-23T22:00:00Z)`);
    return d;
  };
  const startsAt = time(input.startsAt, "startsAt") ?? now;
  const minutes = num(input.durationMinutes, "durationMinutes", { nullable: true, min: 1, max: 366 * 1440 });
  const endsAt = time(input.endsAt, "endsAt") ?? (minutes !== null ? new Date(startsAt.getTime() + minutes * 60_000) : null);
  if (!endsAt) throw new InputError("endsAt or durationMinutes: say when it ends");
  if (endsAt <= startsAt) throw new InputError("endsAt: must be after startsAt");
  const rule = input.rule === undefined || input.rule === null || input.rule === "" ? null : String(input.rule);
  if (rule !== null && !/^(threshold|builtin):[A-Za-z0-9_.]+$/.test(rule))
    throw new InputError(`rule: expected threshold:<metric> or builtin:<kind>, got "${rule}"`);
  const gpuUuid =
    input.gpuUuid === undefined || input.gpuUuid === null || input.gpuUuid === "" ? null : String(input.gpuUuid).slice(0, 128);
  const reason = input.reason === undefined || input.reason === null ? null : String(input.reason).slice(0, 2000);
  const [row] = await db
    .insert(silences)
    .values({ kind, workerId, gpuUuid, rule, startsAt, endsAt, reason, createdBy: actor.label })
    .returning();
  await audit(db, actor, {
    action: "silence.add",
    target: workerId !== null ? `worker:${workerId}` : "all workers",
    details: { kind, rule, gpuUuid, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), reason },
  });
  return row!;
}

export async function cancelSilence(db: Db, actor: Actor, id: number): Promise<void> {
  const [row] = await db
    .update(silences)
    .set({ cancelledAt: new Date() })
    .where(and(eq(silences.id, id), isNull(silences.cancelledAt)))
    .returning();
  if (!row) throw new InputError(`no active silence with id ${id}`);
  await audit(db, actor, { action: "silence.cancel", target: String(id) });
}

// ---- channels ----

export type ChannelRow = typeof channels.$inferSelect;

/** A channel as the API shows it: secrets masked. */
export function publicChannel(c: ChannelRow) {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    minSeverity: c.minSeverity,
    tier: c.tier,
    config: isChannelKind(c.kind) ? maskSecrets(c.kind, c.config) : {},
    updatedAt: c.updatedAt.toISOString(),
    updatedBy: c.updatedBy,
  };
}

export async function listChannels(db: Db): Promise<ChannelRow[]> {
  return db.select().from(channels).orderBy(channels.tier, channels.name);
}

export async function getChannel(db: Db, id: number): Promise<ChannelRow> {
  const [c] = await db.select().from(channels).where(eq(channels.id, id));
  if (!c) throw new InputError(`no channel with id ${id}`);
  return c;
}

/** Creates a channel, or updates the one with `id`; a masked secret submitted back keeps the stored one. */
export async function saveChannel(db: Db, actor: Actor, input: unknown, id?: number): Promise<ChannelRow> {
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const existing = id !== undefined ? await getChannel(db, id) : undefined;
  const name = String(input.name ?? existing?.name ?? "").trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,62}$/u.test(name)) throw new InputError("name: 1-63 letters, digits, spaces, '.', '_' or '-'");
  const kind = String(input.kind ?? existing?.kind ?? "");
  if (!isChannelKind(kind)) throw new InputError(`kind: expected one of ${CHANNEL_KINDS.join(", ")}`);
  if (existing && existing.kind !== kind) throw new InputError("kind: a channel's kind cannot change; create a new channel");
  const submitted = isObj(input.config) ? input.config : (existing?.config ?? {});
  const config = existing ? keepMaskedSecrets(kind, submitted, existing.config) : submitted;
  const errors = validateConfig(kind, config);
  if (errors.length) throw new InputError(`config: ${errors.join("; ")}`);
  const minSeverity = input.minSeverity === undefined ? (existing?.minSeverity ?? "warning") : String(input.minSeverity);
  if (minSeverity !== "warning" && minSeverity !== "critical") throw new InputError("minSeverity: expected warning or critical");
  const tier = input.tier === undefined ? (existing?.tier ?? 1) : num(input.tier, "tier", { integer: true, min: 1, max: 5 })!;
  const values = {
    name,
    kind,
    config,
    enabled: bool(input.enabled, existing?.enabled ?? true),
    minSeverity,
    tier,
    updatedAt: new Date(),
    updatedBy: actor.label,
  };
  const [clash] = await db.select({ id: channels.id }).from(channels).where(eq(channels.name, name));
  if (clash && clash.id !== existing?.id) throw new InputError(`name: a channel named ${name} exists`);
  const [row] = existing
    ? await db.update(channels).set(values).where(eq(channels.id, existing.id)).returning()
    : await db.insert(channels).values(values).returning();
  await audit(db, actor, { action: "channel.save", target: name, details: { kind, enabled: values.enabled, tier, minSeverity } });
  return row!;
}

export async function deleteChannel(db: Db, actor: Actor, id: number): Promise<void> {
  const [row] = await db.delete(channels).where(eq(channels.id, id)).returning();
  if (!row) throw new InputError(`no channel with id ${id}`);
  await audit(db, actor, { action: "channel.delete", target: row.name });
}

// ---- alerts and deliveries ----

export interface AlertQuery {
  state?: string;
  workerId?: number;
  rule?: string;
  since?: Date;
  before?: number;
  limit?: number;
}

/** What an alert is about, in words: a service's name for its health, else the worker's. */
const SUBJECT_NAME = sql<string>`coalesce(${services.name}, ${workers.name}, 'the head')`;

/** Alerts with their worker's name, newest first; `state` filters (open = pending, firing and nodata). */
export async function listAlerts(db: Db, q: AlertQuery = {}) {
  const where: SQL[] = [];
  if (q.state === "open") where.push(sql`${alerts.state} <> 'resolved'`);
  else if (q.state) where.push(eq(alerts.state, q.state));
  if (q.workerId !== undefined) where.push(eq(alerts.workerId, q.workerId));
  if (q.rule) where.push(eq(alerts.rule, q.rule));
  if (q.since) where.push(gt(alerts.startedAt, q.since));
  if (q.before) where.push(lt(alerts.id, q.before));
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  return db
    .select({ alert: alerts, workerName: SUBJECT_NAME })
    .from(alerts)
    .leftJoin(workers, eq(workers.id, alerts.workerId))
    .leftJoin(services, eq(services.id, alerts.serviceId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(alerts.id))
    .limit(limit);
}

export async function alertDetail(db: Db, id: number) {
  const [row] = await db
    .select({ alert: alerts, workerName: SUBJECT_NAME })
    .from(alerts)
    .leftJoin(workers, eq(workers.id, alerts.workerId))
    .leftJoin(services, eq(services.id, alerts.serviceId))
    .where(eq(alerts.id, id));
  if (!row) throw new InputError(`no alert with id ${id}`);
  const events = await db.select().from(alertEvents).where(eq(alertEvents.alertId, id)).orderBy(alertEvents.id);
  const log = await db
    .select({ d: deliveries, channel: channels.name })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .where(eq(deliveries.alertId, id))
    .orderBy(deliveries.id);
  return { ...row, events, deliveries: log };
}

/** The latest deliveries of a channel, for its delivery log. */
export async function channelDeliveries(db: Db, channelId: number, limit = 50) {
  return db.select().from(deliveries).where(eq(deliveries.channelId, channelId)).orderBy(desc(deliveries.id)).limit(limit);
}
