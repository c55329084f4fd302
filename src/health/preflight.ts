// The pre-flight checklist: migrations current, a worker online, every critical service healthy, channels configured, required files present; overrides with expiry.
import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import { JOURNAL } from "../../migrations/index.ts";
import { audit, type Actor } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import type { Db } from "../db/client.ts";
import { channels, preflightOverrides, services } from "../db/schema/index.ts";
import type { HealthStatus } from "../checks/checker.ts";
import type { WorkerSummary } from "../fleet/workers.ts";
import { appliedCount } from "../db/migrate.ts";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { log } from "../log.ts";
import type { LatestCheck, ServiceRow } from "./loop.ts";

export type PreflightState = "pass" | "fail" | "pending";

export interface PreflightItem {
  /** Stable name, used by overrides and the gate's answer: `migrations`, `workers-online`, `service:NAME`, `files:NAME`, `channels`. */
  name: string;
  label: string;
  critical: boolean;
  state: PreflightState;
  message: string;
  /** An admin's go-ahead while it fails. */
  override?: { by: string; reason: string; expiresAt: string };
}

export interface Preflight {
  /** Every critical item passes or is overridden. */
  ready: boolean;
  items: PreflightItem[];
  /** Critical items that hold the gate shut. */
  failing: string[];
  at: string;
}

export interface PreflightInputs {
  migrationsApplied: number;
  workers: readonly WorkerSummary[];
  services: readonly ServiceRow[];
  latest: (id: number) => LatestCheck | undefined;
  enabledChannels: number;
  overrides: readonly { check: string; createdBy: string; reason: string; expiresAt: Date }[];
  now: number;
}

/** The checklist from what the head knows now; pure, so the gate, the page and `vigil doctor` agree. */
export function preflight(i: PreflightInputs): Preflight {
  const items: PreflightItem[] = [];
  const total = JOURNAL.entries.length;
  items.push({
    name: "migrations",
    label: "Database migrations current",
    critical: true,
    state: i.migrationsApplied === total ? "pass" : "fail",
    message:
      i.migrationsApplied === total
        ? `${total} of ${total} applied`
        : `${i.migrationsApplied} of ${total} applied; run vigil migrate (or restart the head, which migrates)`,
  });
  const online = i.workers.filter((w) => w.status === "online").length;
  items.push({
    name: "workers-online",
    label: "At least one worker online",
    critical: true,
    state: online > 0 ? "pass" : "fail",
    message:
      online > 0
        ? `${online} of ${i.workers.length} online`
        : i.workers.length
          ? `none of ${i.workers.length} workers is online`
          : "no worker registered",
  });
  for (const s of i.services) {
    if (!s.enabled || !s.critical) continue;
    const l = i.latest(s.id);
    items.push({
      name: `service:${s.name}`,
      label: `${s.name} healthy`,
      critical: true,
      state: !l ? "pending" : l.status === "healthy" ? "pass" : "fail",
      message: !l ? "not checked yet" : `${l.status}: ${l.message}`,
    });
  }
  for (const s of i.services) {
    if (!s.enabled || s.requiredFiles.length === 0) continue;
    const f = i.latest(s.id)?.files;
    items.push({
      name: `files:${s.name}`,
      label: `${s.name}: required files present`,
      critical: s.critical,
      state: !f ? "pending" : f.ok ? "pass" : "fail",
      message: !f ? "not checked yet" : f.ok ? `${s.requiredFiles.length} present` : (f.error ?? `missing: ${f.missing.join(", ")}`),
    });
  }
  items.push({
    name: "channels",
    label: "Notification channels configured",
    critical: false,
    state: i.enabledChannels > 0 ? "pass" : "fail",
    message:
      i.enabledChannels > 0 ? `${i.enabledChannels} enabled` : "no channel: alerts reach only the dashboard (add one at /alerts/channels)",
  });
  for (const item of items) {
    const o = i.overrides.find((x) => x.check === item.name && x.expiresAt.getTime() > i.now);
    if (o && item.state !== "pass") item.override = { by: o.createdBy, reason: o.reason, expiresAt: o.expiresAt.toISOString() };
  }
  const failing = items.filter((x) => x.critical && x.state !== "pass" && !x.override).map((x) => x.name);
  return { ready: failing.length === 0, items, failing, at: new Date(i.now).toISOString() };
}

/** The overrides still in force. */
export async function activeOverrides(db: Db, now: number) {
  return db
    .select()
    .from(preflightOverrides)
    .where(and(isNull(preflightOverrides.cancelledAt), gt(preflightOverrides.expiresAt, new Date(now))));
}

export async function enabledChannelCount(db: Db): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(channels)
    .where(and(eq(channels.enabled, true), ne(channels.kind, "dashboard")));
  return Number(r?.n ?? 0);
}

/** An admin's go-ahead for a failing check, for a while (at most 7 days), recorded in the audit log. */
export async function addOverride(db: Db, actor: Actor, input: unknown, now: number) {
  const o = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const check = typeof o.check === "string" ? o.check.trim() : "";
  if (!/^(migrations|workers-online|channels|(service|files):.{1,200})$/.test(check))
    throw new InputError("check: the name of a checklist item, e.g. workers-online or service:inference-api");
  const reason = typeof o.reason === "string" ? o.reason.trim().slice(0, 2000) : "";
  if (!reason) throw new InputError("reason: say why the gate may open anyway");
  const minutes = Number(o.durationMinutes ?? 60);
  if (!Number.isFinite(minutes) || minutes < 1 || minutes > 7 * 1440) throw new InputError("durationMinutes: from 1 to 10080 (7 days)");
  const [row] = await db
    .insert(preflightOverrides)
    .values({ check, reason, createdBy: actor.label, expiresAt: new Date(now + minutes * 60_000) })
    .returning();
  await audit(db, actor, { action: "preflight.override", target: check, details: { reason, expiresAt: row!.expiresAt.toISOString() } });
  return row!;
}

export async function cancelOverride(db: Db, actor: Actor, id: number): Promise<void> {
  const [row] = await db
    .update(preflightOverrides)
    .set({ cancelledAt: new Date() })
    .where(and(eq(preflightOverrides.id, id), isNull(preflightOverrides.cancelledAt)))
    .returning();
  if (!row) throw new InputError(`no active override with id ${id}`);
  await audit(db, actor, { action: "preflight.override.cancel", target: row.check });
}

/**
 * The checklist when the database does not answer: that item alone, failing, since nothing else can
 * be read (`database` is no checklist item otherwise, and cannot be overridden: overrides live in it).
 */
export function databaseUnreachable(err: unknown, now: number): Preflight {
  const reason = err instanceof Error ? err.message : String(err);
  return {
    ready: false,
    items: [
      {
        name: "database",
        label: "Database reachable",
        critical: true,
        state: "fail",
        message: `the database does not answer: ${reason.split("\n")[0]!.slice(0, 300)}`,
      },
    ],
    failing: ["database"],
    at: new Date(now).toISOString(),
  };
}

/** The checklist as this head sees it now. */
export async function currentPreflight(ctx: HeadContext): Promise<Preflight> {
  const db = ctx.database.db;
  const now = ctx.health.now();
  let migrationsApplied: number, workers: WorkerSummary[], enabledChannels: number, overrides: Awaited<ReturnType<typeof activeOverrides>>;
  try {
    [migrationsApplied, workers, enabledChannels, overrides] = await Promise.all([
      appliedCount(db),
      listWorkers(db, ctx.latest.heardAt, now),
      enabledChannelCount(db),
      activeOverrides(db, now),
    ]);
  } catch (err) {
    // The gate's callers (schedulers, CI) need "not ready, because of the database", not a 500.
    log.debug("pre-flight: the database does not answer", { error: err });
    return databaseUnreachable(err, now);
  }
  return preflight({
    migrationsApplied,
    workers,
    services: ctx.health.services(),
    latest: (id) => ctx.health.latestOf(id),
    enabledChannels,
    overrides,
    now,
  });
}

/**
 * The checklist from the database alone, as the head last recorded it: what `vigil doctor` shows,
 * on the database directly or through a running head's admin socket.
 */
export async function preflightFromDatabase(db: Db, now = Date.now()): Promise<Preflight> {
  const migrationsApplied = await appliedCount(db);
  // A database behind its migrations may lack the tables the rest reads: report that alone.
  if (migrationsApplied < JOURNAL.entries.length)
    return preflight({ migrationsApplied, workers: [], services: [], latest: () => undefined, enabledChannels: 0, overrides: [], now });
  const [workers, enabledChannels, overrides, rows, newest] = await Promise.all([
    listWorkers(db, undefined, now),
    enabledChannelCount(db),
    activeOverrides(db, now),
    db.select().from(services),
    db.execute(
      sql`select distinct on (service_id) service_id, at, status, latency_ms, message, details from check_results order by service_id, at desc`,
    ),
  ]);
  const latest = new Map<number, LatestCheck>();
  for (const r of (newest as unknown as { rows: Record<string, unknown>[] }).rows) {
    const details = (r.details ?? {}) as Record<string, unknown>;
    const at = new Date(r.at as string).getTime();
    latest.set(Number(r.service_id), {
      status: r.status as HealthStatus,
      at,
      since: at,
      latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
      message: String(r.message ?? ""),
      details,
      files: details.requiredFiles as LatestCheck["files"],
    });
  }
  return preflight({ migrationsApplied, workers, services: rows, latest: (id) => latest.get(id), enabledChannels, overrides, now });
}
