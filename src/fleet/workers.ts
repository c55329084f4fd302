// Worker records: register a worker, list them with their online status; plain functions over the database.
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { workers } from "../db/schema/index.ts";

export type WorkerKind = "local" | "remote";
export type WorkerStatus = "online" | "stale" | "offline" | "never-seen";

export interface WorkerSummary {
  id: number;
  name: string;
  kind: WorkerKind;
  hostname: string | null;
  status: WorkerStatus;
  lastSeenAt: string | null;
  intervalSeconds: number;
  gpuCount: number;
  createdAt: string;
}

/**
 * From the last sample's arrival: online within 3 intervals (at least 5 s), stale within 10 intervals
 * (at least 60 s: a hiccup, or a backlog still replaying), offline after that.
 */
export const STALE_AFTER_INTERVALS = 3;
export const OFFLINE_AFTER_INTERVALS = 10;
const STALE_GRACE_MS = 5_000;
const OFFLINE_GRACE_MS = 60_000;

export function workerStatus(lastSeenAt: Date | null, intervalSeconds: number, now = Date.now()): WorkerStatus {
  if (!lastSeenAt) return "never-seen";
  const age = now - lastSeenAt.getTime();
  if (age <= Math.max(STALE_GRACE_MS, STALE_AFTER_INTERVALS * intervalSeconds * 1000)) return "online";
  if (age <= Math.max(OFFLINE_GRACE_MS, OFFLINE_AFTER_INTERVALS * intervalSeconds * 1000)) return "stale";
  return "offline";
}

/** Creates the worker if it is new, otherwise updates what it reports about itself; returns its id. */
export async function upsertWorker(
  db: Db,
  w: { name: string; kind: WorkerKind; hostname?: string | null; intervalSeconds?: number; info?: Record<string, unknown> },
): Promise<number> {
  const values = {
    name: w.name,
    kind: w.kind,
    hostname: w.hostname ?? null,
    intervalSeconds: Math.max(1, Math.round(w.intervalSeconds ?? 1)),
    info: w.info ?? {},
  };
  const rows = await db
    .insert(workers)
    .values(values)
    .onConflictDoUpdate({
      target: workers.name,
      set: { hostname: values.hostname, intervalSeconds: values.intervalSeconds, info: values.info, kind: values.kind },
    })
    .returning({ id: workers.id });
  const id = rows[0]?.id;
  if (id === undefined) throw new Error(`could not register worker ${w.name}`);
  return id;
}

/**
 * All workers with their status. `heardAt` gives when the head last received a sample that may not
 * be committed yet (the latest-state cache), so a worker is online from its first sample on.
 */
export async function listWorkers(db: Db, heardAt?: (workerId: number) => Date | undefined, now = Date.now()): Promise<WorkerSummary[]> {
  const rows = await db
    .select({
      id: workers.id,
      name: workers.name,
      kind: workers.kind,
      hostname: workers.hostname,
      lastSeenAt: workers.lastSeenAt,
      intervalSeconds: workers.intervalSeconds,
      createdAt: workers.createdAt,
      // Spelled out: drizzle leaves columns unqualified inside sql``, which a correlated subquery misreads.
      gpuCount: sql<number>`(select count(*)::int from gpus g where g.worker_id = "workers"."id")`,
    })
    .from(workers)
    .orderBy(asc(workers.name));
  return rows.map((r) => {
    const heard = heardAt?.(r.id);
    const lastSeen = heard && (!r.lastSeenAt || heard > r.lastSeenAt) ? heard : r.lastSeenAt;
    return {
      id: r.id,
      name: r.name,
      kind: r.kind as WorkerKind,
      hostname: r.hostname,
      status: workerStatus(lastSeen, r.intervalSeconds, now),
      lastSeenAt: lastSeen?.toISOString() ?? null,
      intervalSeconds: r.intervalSeconds,
      gpuCount: Number(r.gpuCount),
      createdAt: r.createdAt.toISOString(),
    };
  });
}

/** A worker by numeric id or by name (names are unique); the id wins when a name looks like another worker's id. */
export function findWorker<W extends { id: number; name: string }>(list: readonly W[], key: string): W | undefined {
  return list.find((w) => String(w.id) === key) ?? list.find((w) => w.name === key);
}

/** The host's static facts the agent reported, and apart from them the units its allow-list lets an admin restart. */
export async function workerInfo(db: Db, workerId: number): Promise<{ info: Record<string, unknown>; services: string[] }> {
  const [row] = await db.select({ info: workers.info }).from(workers).where(eq(workers.id, workerId));
  const { restartAllow, ...info } = (row?.info ?? {}) as { restartAllow?: unknown } & Record<string, unknown>;
  return { info, services: Array.isArray(restartAllow) ? restartAllow.filter((s): s is string => typeof s === "string") : [] };
}
