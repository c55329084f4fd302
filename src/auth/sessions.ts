// Server-side browser sessions: the cookie holds a random secret, the database its hash, with idle and absolute expiry.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { sessions, users } from "../db/schema/index.ts";
import type { Role } from "./roles.ts";

export const SESSION_COOKIE = "vigil_session";

export interface SessionPolicy {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after login, however active. */
  maxMs: number;
}

export interface SessionUser {
  sessionId: string;
  userId: number;
  name: string;
  role: Role;
}

/** Writes of last_seen_at are coalesced: at most one per session per minute. */
const TOUCH_EVERY_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export async function createSession(
  db: Db,
  userId: number,
  policy: SessionPolicy,
  meta: { ip?: string | null; userAgent?: string | null } = {},
): Promise<{ secret: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + policy.maxMs);
  await db.insert(sessions).values({
    id: hashSecret(secret),
    userId,
    expiresAt,
    ip: meta.ip ?? null,
    userAgent: meta.userAgent?.slice(0, 512) ?? null,
  });
  return { secret, expiresAt };
}

/** The signed-in user of a cookie secret, or undefined when the session is unknown, idle too long or expired. */
export async function resolveSession(db: Db, secret: string, policy: SessionPolicy, now = new Date()): Promise<SessionUser | undefined> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(secret)) return undefined;
  const id = hashSecret(secret);
  const rows = await db
    .select({ s: sessions, name: users.name, role: users.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, id));
  const row = rows[0];
  if (!row) return undefined;
  const idleFor = now.getTime() - row.s.lastSeenAt.getTime();
  if (row.s.expiresAt <= now || idleFor > policy.idleMs) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return undefined;
  }
  if (idleFor > TOUCH_EVERY_MS) await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  return { sessionId: id, userId: row.s.userId, name: row.name, role: row.role as Role };
}

export async function endSession(db: Db, secret: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, hashSecret(secret)));
}

/** Removes sessions past either limit; called by the head now and then so the table does not grow. */
export async function pruneSessions(db: Db, policy: SessionPolicy, now = new Date()): Promise<number> {
  const idleCut = new Date(now.getTime() - policy.idleMs);
  const r = await db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, idleCut)))
    .returning({ id: sessions.id });
  return r.length;
}

export async function countSessions(db: Db, userId: number): Promise<number> {
  const r = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(sessions)
    .where(and(eq(sessions.userId, userId)));
  return Number(r[0]?.n ?? 0);
}
