// Restart requests: recorded in the restart log, then sent down the worker's socket; the agent decides and reports back.
import { desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { restarts, workers } from "../db/schema/index.ts";
import { audit, type Actor } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import type { AgentSessions } from "../ingest/sessions.ts";
import type { RestartStatusMessage } from "../protocol/messages.ts";
import { unitNameProblem } from "../../agent/restart/allowlist.ts";
import { sql } from "drizzle-orm";

export const DEFAULT_WAIT_SECONDS = 600;

export type RestartRow = typeof restarts.$inferSelect;

export class WorkerNotConnected extends Error {
  constructor(name: string, anyHead = false) {
    super(`worker ${name} is not connected to this head${anyHead ? " or any other on its database" : ""}; the restart was not sent`);
    this.name = "WorkerNotConnected";
  }
}

/** A restart's state changed: requested ("initiated") or reported by its agent. */
export interface RestartChange {
  workerId: number;
  restartId: number;
  state: string;
}

// Keyed by the head's database handle, so two heads in one process (tests) never hear each other's restarts.
const restartListeners = new WeakMap<Db, Set<(change: RestartChange) => void>>();

/** The live bus hooks in here; returns the unsubscribe function. */
export function onRestartChange(db: Db, fn: (change: RestartChange) => void): () => void {
  let set = restartListeners.get(db);
  if (!set) restartListeners.set(db, (set = new Set()));
  set.add(fn);
  return () => void set.delete(fn);
}

function notifyRestartChange(db: Db, change: RestartChange): void {
  for (const fn of restartListeners.get(db) ?? []) fn(change);
}

export async function requestRestart(
  db: Db,
  sessions: AgentSessions,
  actor: Actor,
  workerId: number,
  input: { service?: unknown; reason?: unknown; force?: unknown; waitSeconds?: unknown },
): Promise<RestartRow> {
  const service = typeof input.service === "string" ? input.service.trim() : "";
  // The agent's own rule, checked early so a bad name is a 400 here; the agent checks it (and its allow-list) again.
  const problem = unitNameProblem(service);
  if (problem) throw new InputError(`service: ${problem}`);
  const reason = typeof input.reason === "string" ? input.reason.slice(0, 2000) : null;
  const force = input.force === true;
  const wait =
    typeof input.waitSeconds === "number" && Number.isInteger(input.waitSeconds) && input.waitSeconds >= 0
      ? Math.min(input.waitSeconds, 86_400)
      : DEFAULT_WAIT_SECONDS;
  const [worker] = await db
    .select({ id: workers.id, name: workers.name, kind: workers.kind })
    .from(workers)
    .where(eq(workers.id, workerId));
  if (!worker) throw new InputError(`no worker with id ${workerId}`);
  // With other heads on the database the agent may be on any of them: the one holding it sends it, after the row exists.
  if (!sessions.connected(workerId)) throw new WorkerNotConnected(worker.name, sessions.relay !== null);
  const at = new Date().toISOString();
  const [row] = await db
    .insert(restarts)
    .values({ workerId, service, reason, force, requestedBy: actor.label, events: [{ state: "initiated", at }] })
    .returning();
  await audit(db, actor, {
    action: "restart.request",
    target: `${worker.name}/${service}`,
    details: { restartId: row!.id, force, reason },
  });
  if (!(await sessions.sendAnywhere(workerId, { type: "restart", id: row!.id, service, force, waitSeconds: wait }))) {
    // No head holds its socket (it went away meanwhile): the log says so, rather than "initiated" for ever.
    const message = "not sent: the worker's agent is not connected to any head";
    await db
      .update(restarts)
      .set({
        state: "failed",
        message,
        updatedAt: new Date(),
        events: sql`${restarts.events} || ${JSON.stringify([{ state: "failed", at: new Date().toISOString(), message }])}::jsonb`,
      })
      .where(eq(restarts.id, row!.id));
    notifyRestartChange(db, { workerId, restartId: row!.id, state: "failed" });
    throw new WorkerNotConnected(worker.name, sessions.relay !== null);
  }
  notifyRestartChange(db, { workerId, restartId: row!.id, state: "initiated" });
  return row!;
}

export async function listRestarts(db: Db, workerId: number, limit = 50): Promise<RestartRow[]> {
  return db.select().from(restarts).where(eq(restarts.workerId, workerId)).orderBy(desc(restarts.id)).limit(limit);
}

/** Appends an agent's report to the restart's log, if the restart belongs to that worker. */
export async function recordRestartStatus(db: Db, workerId: number, m: RestartStatusMessage): Promise<boolean> {
  const event = { state: m.state, at: m.at, ...(m.message ? { message: m.message } : {}) };
  const rows = await db
    .update(restarts)
    .set({
      state: m.state,
      message: m.message ?? null,
      updatedAt: new Date(),
      events: sql`${restarts.events} || ${JSON.stringify([event])}::jsonb`,
    })
    .where(sql`${restarts.id} = ${m.id} and ${restarts.workerId} = ${workerId}`)
    .returning({ id: restarts.id });
  if (rows.length > 0) notifyRestartChange(db, { workerId, restartId: m.id, state: m.state });
  return rows.length > 0;
}
