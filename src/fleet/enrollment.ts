// Worker credentials: a one-time enrollment token the agent exchanges for its own secret; rotate and revoke cut it off.
import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { workers } from "../db/schema/index.ts";
import { audit, type Actor } from "../auth/audit.ts";
import { hashSecret } from "../auth/sessions.ts";
import { InputError } from "../auth/text.ts";
import { WORKER_NAME, WORKER_NAME_RULE } from "./names.ts";

/** Enrollment tokens and agent secrets are recognisable, like API tokens, and carry 256 random bits. */
export const ENROLLMENT_PREFIX = "vge_";
export const AGENT_SECRET_PREFIX = "vga_";
/** An enrollment token not used within this long must be made again (vigil worker rotate). */
export const ENROLLMENT_TTL_MS = 7 * 86_400_000;

export function checkWorkerName(raw: unknown): string {
  if (typeof raw !== "string" || !WORKER_NAME.test(raw.trim())) {
    throw new InputError(`worker name: ${WORKER_NAME_RULE}`);
  }
  return raw.trim();
}

function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export interface EnrollmentTicket {
  workerId: number;
  name: string;
  token: string;
  expiresAt: Date;
}

/** Registers a worker (or re-issues the token of one not yet enrolled) and returns its one-time token. */
export async function addWorker(db: Db, actor: Actor, rawName: unknown): Promise<EnrollmentTicket> {
  const name = checkWorkerName(rawName);
  const existing = (await db.select().from(workers).where(eq(workers.name, name)))[0];
  if (existing && (existing.secretHash || existing.kind === "local")) {
    throw new InputError(`worker ${name} exists and is enrolled; use rotate to give it a new token`);
  }
  const token = newSecret(ENROLLMENT_PREFIX);
  const expiresAt = new Date(Date.now() + ENROLLMENT_TTL_MS);
  const values = { name, kind: "remote", enrollmentHash: hashSecret(token), enrollmentExpiresAt: expiresAt, revokedAt: null };
  const [row] = await db
    .insert(workers)
    .values(values)
    .onConflictDoUpdate({
      target: workers.name,
      set: { enrollmentHash: values.enrollmentHash, enrollmentExpiresAt: expiresAt, revokedAt: null },
    })
    .returning({ id: workers.id });
  await audit(db, actor, { action: "worker.add", target: name, details: { workerId: row!.id } });
  return { workerId: row!.id, name, token, expiresAt };
}

/** Ends the worker's current secret at once and issues a new enrollment token for the (re)installed agent. */
export async function rotateWorker(db: Db, actor: Actor, rawName: unknown): Promise<EnrollmentTicket> {
  const name = checkWorkerName(rawName);
  const token = newSecret(ENROLLMENT_PREFIX);
  const expiresAt = new Date(Date.now() + ENROLLMENT_TTL_MS);
  const [row] = await db
    .update(workers)
    .set({ secretHash: null, enrolledAt: null, enrollmentHash: hashSecret(token), enrollmentExpiresAt: expiresAt, revokedAt: null })
    .where(and(eq(workers.name, name), eq(workers.kind, "remote")))
    .returning({ id: workers.id });
  if (!row) throw new InputError(`no remote worker named ${name}`);
  await audit(db, actor, { action: "worker.rotate", target: name, details: { workerId: row.id } });
  return { workerId: row.id, name, token, expiresAt };
}

/** Cuts the worker off: its secret and any pending token stop working; history stays. */
export async function revokeWorker(db: Db, actor: Actor, rawName: unknown): Promise<void> {
  const name = checkWorkerName(rawName);
  const [row] = await db
    .update(workers)
    .set({ secretHash: null, enrollmentHash: null, revokedAt: new Date() })
    .where(and(eq(workers.name, name), eq(workers.kind, "remote")))
    .returning({ id: workers.id });
  if (!row) throw new InputError(`no remote worker named ${name}`);
  await audit(db, actor, { action: "worker.revoke", target: name, details: { workerId: row.id } });
}

/** Removes the worker and all its history. */
export async function removeWorker(db: Db, actor: Actor, rawName: unknown): Promise<void> {
  const name = checkWorkerName(rawName);
  const rows = await db.delete(workers).where(eq(workers.name, name)).returning({ id: workers.id });
  if (!rows.length) throw new InputError(`no worker named ${name}`);
  await audit(db, actor, { action: "worker.remove", target: name });
}

export class EnrollmentRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnrollmentRefused";
  }
}

/**
 * The agent's first contact: a valid, unused, unexpired token becomes the worker's secret. The
 * token is consumed in the same statement, so a replay (by this machine or another) finds nothing.
 */
export async function enroll(
  db: Db,
  token: unknown,
  meta: { hostname?: string | null; machineId?: string | null; version?: string | null; ip?: string | null },
): Promise<{ workerId: number; name: string; secret: string }> {
  if (typeof token !== "string" || !token.startsWith(ENROLLMENT_PREFIX) || token.length > 100) {
    throw new EnrollmentRefused("not an enrollment token (they start with vge_)");
  }
  const secret = newSecret(AGENT_SECRET_PREFIX);
  const [row] = await db
    .update(workers)
    .set({
      secretHash: hashSecret(secret),
      enrollmentHash: null,
      enrollmentExpiresAt: null,
      enrolledAt: new Date(),
      hostname: meta.hostname?.slice(0, 255) ?? null,
      machineId: meta.machineId?.slice(0, 128) ?? null,
      agentVersion: meta.version?.slice(0, 64) ?? null,
    })
    .where(and(eq(workers.enrollmentHash, hashSecret(token)), gt(workers.enrollmentExpiresAt, sql`now()`), isNull(workers.revokedAt)))
    .returning({ id: workers.id, name: workers.name });
  if (!row) {
    await audit(
      db,
      { label: "anonymous", ip: meta.ip ?? null },
      { action: "worker.enroll.refused", details: { machineId: meta.machineId ?? null } },
    );
    throw new EnrollmentRefused(
      "enrollment token unknown, already used or expired; run `vigil worker rotate NAME` on the head for a new one",
    );
  }
  await audit(
    db,
    { label: `agent:${row.name}`, ip: meta.ip ?? null },
    { action: "worker.enroll", target: row.name, details: { machineId: meta.machineId ?? null, hostname: meta.hostname ?? null } },
  );
  return { workerId: row.id, name: row.name, secret };
}

export interface AgentIdentity {
  workerId: number;
  name: string;
  interval: number;
}

/** The worker an agent secret belongs to, or undefined when unknown, rotated away or revoked. */
export async function authenticateAgent(db: Db, secret: string): Promise<AgentIdentity | undefined> {
  if (!secret.startsWith(AGENT_SECRET_PREFIX) || secret.length > 100) return undefined;
  const [row] = await db
    .select({ id: workers.id, name: workers.name, interval: workers.intervalSeconds, revokedAt: workers.revokedAt })
    .from(workers)
    .where(eq(workers.secretHash, hashSecret(secret)));
  if (!row || row.revokedAt) return undefined;
  return { workerId: row.id, name: row.name, interval: row.interval };
}

/** Whether the secret still belongs to the worker (checked again on every message: revocation is immediate). */
export async function agentStillValid(db: Db, workerId: number, secret: string): Promise<boolean> {
  const id = await authenticateAgent(db, secret);
  return id?.workerId === workerId;
}
