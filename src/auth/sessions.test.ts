import { beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { describeEachEngine } from "../../test/harness/engines.ts";
import type { Database } from "../db/client.ts";
import { users } from "../db/schema/index.ts";
import {
  countSessions,
  createSession,
  endSession,
  hashSecret,
  pruneSessions,
  resolveSession,
  SESSION_COOKIE,
  type SessionPolicy,
} from "./sessions.ts";

const MIN = 60_000;
const POLICY: SessionPolicy = { idleMs: 30 * MIN, maxMs: 8 * 60 * MIN };
const SLOW = 60_000;

/** Users made straight in the table (no argon2): sessions do not look at the password. */
let userCount = 0;
async function makeUser(database: Database, role: "admin" | "viewer" = "viewer"): Promise<{ id: number; name: string }> {
  const name = `session-user-${++userCount}`;
  const [row] = await database.db.insert(users).values({ name, role, passwordHash: "not-a-hash" }).returning();
  return { id: row!.id, name };
}

async function sessionRow(database: Database, secret: string) {
  const rows = await database.query<{
    id: string;
    user_id: number;
    last_seen_at: Date;
    expires_at: Date;
    created_at: Date;
    ip: string | null;
    user_agent: string | null;
  }>("select id, user_id, last_seen_at, expires_at, created_at, ip, user_agent from sessions where id = $1", [hashSecret(secret)]);
  return rows[0];
}

describeEachEngine("sessions", (_engine, open) => {
  let database: Database;
  beforeAll(async () => {
    database = await open();
  }, SLOW);

  test("the cookie is called vigil_session and the stored id is the sha256 of the secret", () => {
    expect(SESSION_COOKIE).toBe("vigil_session");
    expect(hashSecret("abc")).toBe(createHash("sha256").update("abc").digest("hex"));
    expect(hashSecret("abc")).toMatch(/^[0-9a-f]{64}$/);
  });

  test(
    "a fresh session resolves to its user; the database holds only the secret's hash",
    async () => {
      const u = await makeUser(database, "admin");
      const before = Date.now();
      const { secret, expiresAt } = await createSession(database.db, u.id, POLICY, { ip: "192.0.2.44", userAgent: "x".repeat(2000) });
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + POLICY.maxMs);
      expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + POLICY.maxMs);

      const s = await resolveSession(database.db, secret, POLICY);
      expect(s).toEqual({ sessionId: hashSecret(secret), userId: u.id, name: u.name, role: "admin" });

      const row = await sessionRow(database, secret);
      expect(row).toBeDefined();
      expect(row!.user_id).toBe(u.id);
      expect(row!.ip).toBe("192.0.2.44");
      expect(row!.user_agent).toBe("x".repeat(512)); // clipped
      expect(row!.expires_at.getTime()).toBe(expiresAt.getTime());
      const all = await database.query<{ t: string }>("select string_agg(row_to_json(s)::text, ' ') as t from sessions s");
      expect(all[0]!.t).not.toContain(secret);

      // Each login gets its own secret.
      const again = await createSession(database.db, u.id, POLICY);
      expect(again.secret).not.toBe(secret);
      expect(await countSessions(database.db, u.id)).toBe(2);
    },
    SLOW,
  );

  test(
    "a session idle for longer than idleMs is refused and deleted",
    async () => {
      const u = await makeUser(database);
      const t0 = Date.now();
      const { secret } = await createSession(database.db, u.id, POLICY);
      // Activity within the idle limit keeps it alive and moves last_seen_at along.
      expect(await resolveSession(database.db, secret, POLICY, new Date(t0 + 20 * MIN))).toMatchObject({ userId: u.id });
      expect(await resolveSession(database.db, secret, POLICY, new Date(t0 + 40 * MIN))).toMatchObject({ userId: u.id });
      expect((await sessionRow(database, secret))!.last_seen_at.getTime()).toBe(t0 + 40 * MIN);
      // Then 30 min and a second of silence.
      expect(await resolveSession(database.db, secret, POLICY, new Date(t0 + 70 * MIN + 1000))).toBeUndefined();
      expect(await sessionRow(database, secret)).toBeUndefined();
      // Gone for good, even when asked at an earlier time.
      expect(await resolveSession(database.db, secret, POLICY, new Date(t0 + 41 * MIN))).toBeUndefined();
      expect(await countSessions(database.db, u.id)).toBe(0);
    },
    SLOW,
  );

  test(
    "a session is refused at its absolute expiry however active it is, and deleted",
    async () => {
      const u = await makeUser(database);
      const policy: SessionPolicy = { idleMs: 60 * MIN, maxMs: 2 * 60 * MIN };
      const { secret, expiresAt } = await createSession(database.db, u.id, policy);
      const end = expiresAt.getTime();
      for (const before of [100 * MIN, 60 * MIN, 20 * MIN, 1]) {
        expect(await resolveSession(database.db, secret, policy, new Date(end - before))).toMatchObject({ userId: u.id });
      }
      expect(await resolveSession(database.db, secret, policy, new Date(end))).toBeUndefined();
      expect(await sessionRow(database, secret)).toBeUndefined();
      expect(await resolveSession(database.db, secret, policy, new Date(end - MIN))).toBeUndefined();
    },
    SLOW,
  );

  test(
    "malformed or unknown secrets resolve to undefined without a query error",
    async () => {
      const u = await makeUser(database);
      const { secret } = await createSession(database.db, u.id, POLICY);
      const bad = [
        "",
        "short",
        "a".repeat(19),
        "a".repeat(101),
        "x".repeat(1_000_000),
        "'; DROP TABLE sessions; --aaaaaaaaaaaaa",
        '" OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaa',
        "\u0000".repeat(40),
        "ünïcödé-ünïcödé-ünïcödé-ünïcödé",
        secret + "=",
        ` ${secret}`,
        hashSecret(secret), // the stored id is not a credential
      ];
      for (const s of bad) expect(await resolveSession(database.db, s, POLICY)).toBeUndefined();
      // Well formed but never issued.
      expect(await resolveSession(database.db, "A".repeat(43), POLICY)).toBeUndefined();
      expect(await resolveSession(database.db, secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"), POLICY)).toBeUndefined();
      // Nothing was harmed: the real session still resolves.
      expect(await resolveSession(database.db, secret, POLICY)).toMatchObject({ userId: u.id });
    },
    SLOW,
  );

  test(
    "endSession ends that session only",
    async () => {
      const u = await makeUser(database);
      const a = await createSession(database.db, u.id, POLICY);
      const b = await createSession(database.db, u.id, POLICY);
      await endSession(database.db, a.secret);
      expect(await resolveSession(database.db, a.secret, POLICY)).toBeUndefined();
      expect(await sessionRow(database, a.secret)).toBeUndefined();
      expect(await resolveSession(database.db, b.secret, POLICY)).toMatchObject({ userId: u.id });
      // Ending an unknown or odd secret is harmless.
      await endSession(database.db, "never-issued");
      await endSession(database.db, "'; DROP TABLE sessions; --");
      await endSession(database.db, a.secret);
      expect(await countSessions(database.db, u.id)).toBe(1);
    },
    SLOW,
  );

  test(
    "pruneSessions removes expired and idle sessions and keeps live ones",
    async () => {
      // A database of its own, so the count is only of these sessions.
      const fresh = await open();
      const u = await makeUser(fresh);
      const live = await createSession(fresh.db, u.id, POLICY);
      const idle = await createSession(fresh.db, u.id, POLICY);
      const expired = await createSession(fresh.db, u.id, POLICY);
      const recentlyUsed = await createSession(fresh.db, u.id, POLICY);
      await fresh.query("update sessions set last_seen_at = now() - interval '31 minutes' where id = $1", [hashSecret(idle.secret)]);
      await fresh.query("update sessions set expires_at = now() - interval '1 second' where id = $1", [hashSecret(expired.secret)]);
      await fresh.query("update sessions set last_seen_at = now() - interval '29 minutes' where id = $1", [
        hashSecret(recentlyUsed.secret),
      ]);

      expect(await pruneSessions(fresh.db, POLICY)).toBe(2);
      expect(await sessionRow(fresh, idle.secret)).toBeUndefined();
      expect(await sessionRow(fresh, expired.secret)).toBeUndefined();
      expect(await resolveSession(fresh.db, live.secret, POLICY)).toMatchObject({ userId: u.id });
      expect(await resolveSession(fresh.db, recentlyUsed.secret, POLICY)).toMatchObject({ userId: u.id });
      expect(await pruneSessions(fresh.db, POLICY)).toBe(0);

      // Later on, everything is past one limit or the other.
      expect(await pruneSessions(fresh.db, POLICY, new Date(Date.now() + POLICY.maxMs + MIN))).toBe(2);
      expect(await countSessions(fresh.db, u.id)).toBe(0);
    },
    SLOW,
  );

  test(
    "last_seen_at is written only when the last write is more than 60 s old",
    async () => {
      const u = await makeUser(database);
      const { secret } = await createSession(database.db, u.id, POLICY);
      const seen0 = (await sessionRow(database, secret))!.last_seen_at.getTime();
      const seen = async () => (await sessionRow(database, secret))!.last_seen_at.getTime();

      expect(await resolveSession(database.db, secret, POLICY, new Date(seen0 + 30_000))).toBeDefined();
      expect(await seen()).toBe(seen0);
      expect(await resolveSession(database.db, secret, POLICY, new Date(seen0 + 59_000))).toBeDefined();
      expect(await seen()).toBe(seen0);
      expect(await resolveSession(database.db, secret, POLICY, new Date(seen0 + 61_000))).toBeDefined();
      expect(await seen()).toBe(seen0 + 61_000);
      // The next minute is counted from that write.
      expect(await resolveSession(database.db, secret, POLICY, new Date(seen0 + 61_000 + 50_000))).toBeDefined();
      expect(await seen()).toBe(seen0 + 61_000);
      expect(await resolveSession(database.db, secret, POLICY, new Date(seen0 + 61_000 + 61_000))).toBeDefined();
      expect(await seen()).toBe(seen0 + 122_000);
    },
    SLOW,
  );

  test(
    "a session follows its user: role changes show at once, and deleting the user ends it",
    async () => {
      const u = await makeUser(database, "viewer");
      const { secret } = await createSession(database.db, u.id, POLICY);
      expect((await resolveSession(database.db, secret, POLICY))?.role).toBe("viewer");
      await database.query("update users set role = 'admin' where id = $1", [u.id]);
      expect((await resolveSession(database.db, secret, POLICY))?.role).toBe("admin");
      await database.query("delete from users where id = $1", [u.id]);
      expect(await resolveSession(database.db, secret, POLICY)).toBeUndefined();
      expect(await sessionRow(database, secret)).toBeUndefined();
    },
    SLOW,
  );
});
