// Services and their history as plain functions over the database: create, change, remove, recent checks, windows and uptime.
import { and, desc, eq, gt, isNull, lt, or } from "drizzle-orm";
import { isAbsolute } from "node:path";
import { audit, type Actor } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import { checkerOf, CHECK_KINDS, isCheckKind, validateCheckConfig } from "../checks/registry.ts";
import type { HealthStatus } from "../checks/checker.ts";
import type { Db } from "../db/client.ts";
import { channels, checkResults, services, uptimeWindows, workers } from "../db/schema/index.ts";
import { incidents, segments, uptime, type StatusWindow } from "./uptime.ts";
import type { ServiceRow } from "./loop.ts";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function int(v: unknown, field: string, min: number, max: number, dflt: number): number;
function int(v: unknown, field: string, min: number, max: number, dflt: null): number | null;
function int(v: unknown, field: string, min: number, max: number, dflt: number | null): number | null {
  if (v === undefined || v === null || v === "") return dflt;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw new InputError(`${field}: expected a whole number`);
  if (n < min || n > max) throw new InputError(`${field}: from ${min} to ${max}`);
  return n;
}
const bool = (v: unknown, dflt: boolean): boolean => (v === undefined ? dflt : v === true || v === "true" || v === "on" || v === "1");

/** Creates a service, or changes the one with `id`. Input as JSON; errors say what to fix. */
export async function saveService(db: Db, actor: Actor, input: unknown, id?: number): Promise<ServiceRow> {
  if (!isObj(input)) throw new InputError("expected a JSON object");
  const [existing] = id !== undefined ? await db.select().from(services).where(eq(services.id, id)) : [];
  if (id !== undefined && !existing) throw new InputError(`no service with id ${id}`);
  const name = String(input.name ?? existing?.name ?? "").trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._()/-]{0,79}$/u.test(name))
    throw new InputError("name: 1-80 letters, digits, spaces, '.', '_', '-', '/' or '()'");
  const kind = String(input.kind ?? existing?.kind ?? "");
  if (!isCheckKind(kind)) throw new InputError(`kind: expected one of ${CHECK_KINDS.join(", ")}`);
  const config = isObj(input.config) ? input.config : (existing?.config ?? {});
  const problems = validateCheckConfig(kind, config);
  if (problems.length) throw new InputError(`config: ${problems.join("; ")}`);
  const workerId = input.workerId === undefined ? (existing?.workerId ?? null) : int(input.workerId, "workerId", 1, 2 ** 31 - 1, null);
  if (workerId !== null) {
    const [w] = await db.select({ id: workers.id }).from(workers).where(eq(workers.id, workerId));
    if (!w) throw new InputError(`workerId: no worker with id ${workerId}`);
  }
  if (checkerOf(kind).needsWorker && workerId === null) throw new InputError(`workerId: a ${kind} check runs on a worker; say which`);
  const requiredFiles = input.requiredFiles === undefined ? (existing?.requiredFiles ?? []) : input.requiredFiles;
  if (!Array.isArray(requiredFiles) || requiredFiles.length > 64 || requiredFiles.some((p) => typeof p !== "string" || !isAbsolute(p)))
    throw new InputError("requiredFiles: a list of at most 64 absolute paths");
  const logSource =
    input.logSource === undefined
      ? (existing?.logSource ?? null)
      : input.logSource === null || input.logSource === ""
        ? null
        : String(input.logSource);
  if (logSource !== null && !/^unit:[A-Za-z0-9@._:-]{1,255}$/.test(logSource) && !isAbsolute(logSource))
    throw new InputError("logSource: unit:NAME (the unit's journal on the worker) or an absolute file path");
  // By id (the API) or by name (the form's comma-separated list).
  let channelIds: unknown = input.channelIds === undefined ? (existing?.channelIds ?? []) : input.channelIds;
  if (typeof input.channels === "string") {
    channelIds = [];
    for (const n of input.channels
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [ch] = await db.select({ id: channels.id }).from(channels).where(eq(channels.name, n));
      if (!ch) throw new InputError(`channels: no channel named ${n} (see /alerts/channels)`);
      (channelIds as number[]).push(ch.id);
    }
  }
  if (!Array.isArray(channelIds) || channelIds.some((c) => typeof c !== "number" || !Number.isInteger(c)))
    throw new InputError("channelIds: a list of channel ids (empty: every channel)");
  for (const c of channelIds as number[]) {
    const [ch] = await db.select({ id: channels.id }).from(channels).where(eq(channels.id, c));
    if (!ch) throw new InputError(`channelIds: no channel with id ${c}`);
  }
  const values = {
    name,
    kind,
    channelIds: channelIds as number[],
    config,
    workerId,
    intervalSeconds: int(input.intervalSeconds, "intervalSeconds", 5, 86_400, existing?.intervalSeconds ?? 30),
    timeoutSeconds: int(input.timeoutSeconds, "timeoutSeconds", 1, 120, existing?.timeoutSeconds ?? 10),
    degradedLatencyMs:
      input.degradedLatencyMs === undefined
        ? (existing?.degradedLatencyMs ?? null)
        : int(input.degradedLatencyMs, "degradedLatencyMs", 1, 600_000, null),
    critical: bool(input.critical, existing?.critical ?? false),
    escalationSeconds: int(input.escalationSeconds, "escalationSeconds", 0, 7 * 86_400, existing?.escalationSeconds ?? 300),
    requiredFiles: requiredFiles as string[],
    logSource,
    enabled: bool(input.enabled, existing?.enabled ?? true),
    updatedAt: new Date(),
    updatedBy: actor.label,
  };
  const [clash] = await db.select({ id: services.id }).from(services).where(eq(services.name, name));
  if (clash && clash.id !== existing?.id) throw new InputError(`name: a service named ${name} exists`);
  const [row] = existing
    ? await db.update(services).set(values).where(eq(services.id, existing.id)).returning()
    : await db
        .insert(services)
        .values({ ...values, source: "ui" })
        .returning();
  await audit(db, actor, {
    action: "service.save",
    target: name,
    details: { kind, workerId, critical: values.critical, enabled: values.enabled },
  });
  return row!;
}

export async function deleteService(db: Db, actor: Actor, id: number): Promise<void> {
  const [row] = await db.delete(services).where(eq(services.id, id)).returning();
  if (!row) throw new InputError(`no service with id ${id}`);
  await audit(db, actor, { action: "service.delete", target: row.name });
}

export async function recentChecks(db: Db, serviceId: number, limit = 50) {
  return db.select().from(checkResults).where(eq(checkResults.serviceId, serviceId)).orderBy(desc(checkResults.at)).limit(limit);
}

/** The service's status windows overlapping [from, to), oldest first. */
export async function windowsOf(db: Db, serviceId: number, from: number, to: number): Promise<(StatusWindow & { id: number })[]> {
  const rows = await db
    .select()
    .from(uptimeWindows)
    .where(
      and(
        eq(uptimeWindows.serviceId, serviceId),
        lt(uptimeWindows.startedAt, new Date(to)),
        or(isNull(uptimeWindows.endedAt), gt(uptimeWindows.endedAt, new Date(from))),
      ),
    )
    .orderBy(uptimeWindows.startedAt);
  return rows.map((w) => ({
    id: w.id,
    status: w.status as HealthStatus,
    startedAt: w.startedAt.getTime(),
    endedAt: w.endedAt?.getTime() ?? null,
    message: w.message,
  }));
}

const DAY = 86_400_000;

/** 7- and 30-day uptime, the timeline of the chosen range and its incidents. */
export async function uptimeReport(db: Db, serviceId: number, now: number, degradedWeight: number, rangeMs = 7 * DAY) {
  const windows = await windowsOf(db, serviceId, now - 30 * DAY, now + 1);
  return {
    uptime7d: uptime(windows, now - 7 * DAY, now, now, degradedWeight),
    uptime30d: uptime(windows, now - 30 * DAY, now, now, degradedWeight),
    timeline: segments(windows, now - rangeMs, now, now),
    incidents: incidents(windows, now - rangeMs, now, now).slice(0, 100),
  };
}
