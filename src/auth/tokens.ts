// API tokens for scripts: shown once at creation, stored as a hash, revocable, optionally expiring, last use recorded.
import { randomBytes } from "node:crypto";
import { desc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { apiTokens } from "../db/schema/index.ts";
import { audit, type Actor } from "./audit.ts";
import type { Role } from "./roles.ts";
import { hashSecret } from "./sessions.ts";
import { checkRole } from "./users.ts";
import { cleanName, InputError } from "./text.ts";

/** Recognisable in logs and secret scanners; the rest is 256 random bits. */
export const TOKEN_PREFIX = "vgl_";
const TOUCH_EVERY_MS = 60_000;

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  status: "active" | "revoked" | "expired";
}

export interface TokenPrincipal {
  tokenId: number;
  name: string;
  role: Role;
}

type Row = typeof apiTokens.$inferSelect;

function toInfo(r: Row, now = Date.now()): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    prefix: r.prefix,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: r.lastUsedIp,
    status: r.revokedAt ? "revoked" : r.expiresAt && r.expiresAt.getTime() <= now ? "expired" : "active",
  };
}

export async function createToken(
  db: Db,
  actor: Actor,
  input: { name: unknown; role: unknown; expiresAt?: Date | null },
): Promise<{ token: string; info: TokenInfo }> {
  const name = cleanName(input.name, "token name");
  const role = checkRole(input.role);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new InputError("expiry must be in the future");
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const [row] = await db
    .insert(apiTokens)
    .values({
      name,
      role,
      tokenHash: hashSecret(token),
      prefix: token.slice(0, 10),
      createdBy: actor.userId ?? null,
      expiresAt: input.expiresAt ?? null,
    })
    .returning();
  await audit(db, actor, {
    action: "token.create",
    target: name,
    details: { id: row!.id, role, expiresAt: input.expiresAt?.toISOString() ?? null },
  });
  return { token, info: toInfo(row!) };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  const now = Date.now();
  return (await db.select().from(apiTokens).orderBy(desc(apiTokens.id))).map((r) => toInfo(r, now));
}

export async function revokeToken(db: Db, actor: Actor, id: number): Promise<TokenInfo> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  if (!row) throw new InputError(`no token with id ${id}`);
  await audit(db, actor, { action: "token.revoke", target: row.name, details: { id } });
  return toInfo(row);
}

/** The token's identity if it is known, not revoked and not expired; records its use. */
export async function resolveToken(db: Db, token: string, ip: string | null, now = new Date()): Promise<TokenPrincipal | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hashSecret(token)));
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return undefined;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS || row.lastUsedIp !== ip) {
    await db.update(apiTokens).set({ lastUsedAt: now, lastUsedIp: ip }).where(eq(apiTokens.id, row.id));
  }
  return { tokenId: row.id, name: row.name, role: row.role as Role };
}

export async function findActiveTokens(db: Db): Promise<number> {
  const r = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiTokens)
    .where(isNull(apiTokens.revokedAt));
  return Number(r[0]?.n ?? 0);
}
