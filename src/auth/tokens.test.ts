import { beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { describeEachEngine } from "../../test/harness/engines.ts";
import type { Database } from "../db/client.ts";
import type { Actor } from "./audit.ts";
import { InputError } from "./text.ts";
import { createToken, findActiveTokens, listTokens, resolveToken, revokeToken, TOKEN_PREFIX } from "./tokens.ts";

const SLOW = 60_000;
const HOUR = 3_600_000;
const ACTOR: Actor = { label: "cli:root", ip: null };

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

interface TokenRowSql {
  id: number;
  token_hash: string;
  prefix: string;
  last_used_at: Date | null;
  last_used_ip: string | null;
  revoked_at: Date | null;
}

async function tokenRow(database: Database, id: number): Promise<TokenRowSql | undefined> {
  const rows = await database.query<TokenRowSql>(
    "select id, token_hash, prefix, last_used_at, last_used_ip, revoked_at from api_tokens where id = $1",
    [id],
  );
  return rows[0];
}

describeEachEngine("tokens", (_engine, open) => {
  let database: Database;
  beforeAll(async () => {
    database = await open();
  }, SLOW);

  test(
    "createToken returns a vgl_ token once and stores only its sha256",
    async () => {
      const { token, info } = await createToken(database.db, ACTOR, { name: " ci-bot ", role: "viewer" });
      expect(TOKEN_PREFIX).toBe("vgl_");
      expect(token).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
      expect(info).toMatchObject({
        name: "ci-bot",
        role: "viewer",
        prefix: token.slice(0, 10),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        lastUsedIp: null,
        status: "active",
      });

      const row = await tokenRow(database, info.id);
      expect(row!.token_hash).toBe(sha256(token));
      expect(row!.token_hash).not.toBe(token);
      // Neither the token nor its secret part appears anywhere in the row.
      const [json] = await database.query<{ t: string }>("select row_to_json(t)::text as t from api_tokens t where id = $1", [info.id]);
      expect(json!.t).not.toContain(token);
      expect(json!.t).not.toContain(token.slice(4));
      expect(json!.t).not.toContain(token.slice(10));

      // Two tokens never share a secret.
      const other = await createToken(database.db, ACTOR, { name: "ci-bot", role: "viewer" });
      expect(other.token).not.toBe(token);
      expect(other.info.id).not.toBe(info.id);
    },
    SLOW,
  );

  test(
    "createToken refuses bad names and roles, and an expiry in the past",
    async () => {
      const before = (await listTokens(database.db)).length;
      await expect(createToken(database.db, ACTOR, { name: "", role: "viewer" })).rejects.toThrow(new InputError("token name is required"));
      await expect(createToken(database.db, ACTOR, { name: "a\u0000b", role: "viewer" })).rejects.toThrow(InputError);
      await expect(createToken(database.db, ACTOR, { name: "t", role: "owner" })).rejects.toThrow(
        new InputError("role must be admin or viewer"),
      );
      await expect(createToken(database.db, ACTOR, { name: "t", role: "viewer", expiresAt: new Date(Date.now() - 1000) })).rejects.toThrow(
        new InputError("expiry must be in the future"),
      );
      await expect(
        createToken(database.db, ACTOR, { name: "t", role: "viewer", expiresAt: new Date("2000-01-01T00:00:00Z") }),
      ).rejects.toThrow(InputError);
      expect((await listTokens(database.db)).length).toBe(before);
    },
    SLOW,
  );

  test(
    "resolveToken gives the token's identity and records when and from where it was used",
    async () => {
      const { token, info } = await createToken(database.db, ACTOR, { name: "deploy", role: "admin" });
      const t0 = new Date(Date.now() + 1000);
      expect(await resolveToken(database.db, token, "192.0.2.8", t0)).toEqual({ tokenId: info.id, name: "deploy", role: "admin" });
      let row = await tokenRow(database, info.id);
      expect(row!.last_used_at!.getTime()).toBe(t0.getTime());
      expect(row!.last_used_ip).toBe("192.0.2.8");
      const listed = (await listTokens(database.db)).find((t) => t.id === info.id)!;
      expect(listed.lastUsedAt).toBe(t0.toISOString());
      expect(listed.lastUsedIp).toBe("192.0.2.8");

      // Within a minute from the same address: no write.
      expect(await resolveToken(database.db, token, "192.0.2.8", new Date(t0.getTime() + 30_000))).toBeDefined();
      row = await tokenRow(database, info.id);
      expect(row!.last_used_at!.getTime()).toBe(t0.getTime());
      // A new address is recorded at once.
      const t1 = new Date(t0.getTime() + 40_000);
      expect(await resolveToken(database.db, token, "2001:db8::9", t1)).toBeDefined();
      row = await tokenRow(database, info.id);
      expect(row!.last_used_at!.getTime()).toBe(t1.getTime());
      expect(row!.last_used_ip).toBe("2001:db8::9");
      // After a minute, the time is recorded again.
      const t2 = new Date(t1.getTime() + 61_000);
      expect(await resolveToken(database.db, token, "2001:db8::9", t2)).toBeDefined();
      expect((await tokenRow(database, info.id))!.last_used_at!.getTime()).toBe(t2.getTime());
      // An unknown address (null) is recorded as such.
      expect(await resolveToken(database.db, token, null, new Date(t2.getTime() + 1000))).toBeDefined();
      expect((await tokenRow(database, info.id))!.last_used_ip).toBeNull();
    },
    SLOW,
  );

  test(
    "a revoked token is refused; revoking twice keeps the first time; an unknown id is an InputError",
    async () => {
      const { token, info } = await createToken(database.db, ACTOR, { name: "to-revoke", role: "viewer" });
      expect(await resolveToken(database.db, token, null)).toBeDefined();
      const revoked = await revokeToken(database.db, ACTOR, info.id);
      expect(revoked.status).toBe("revoked");
      expect(revoked.revokedAt).not.toBeNull();
      expect(await resolveToken(database.db, token, null)).toBeUndefined();
      expect(await resolveToken(database.db, token, null, new Date(Date.now() - HOUR))).toBeUndefined();

      const again = await revokeToken(database.db, ACTOR, info.id);
      expect(again.revokedAt).toBe(revoked.revokedAt);
      await expect(revokeToken(database.db, ACTOR, 987_654)).rejects.toThrow(new InputError("no token with id 987654"));
    },
    SLOW,
  );

  test(
    "an expiring token works until its expiry and is refused from then on",
    async () => {
      const expiresAt = new Date(Date.now() + HOUR);
      const { token, info } = await createToken(database.db, ACTOR, { name: "short-lived", role: "viewer", expiresAt });
      expect(info.expiresAt).toBe(expiresAt.toISOString());
      expect(info.status).toBe("active");
      expect(await resolveToken(database.db, token, null)).toMatchObject({ tokenId: info.id });
      expect(await resolveToken(database.db, token, null, new Date(expiresAt.getTime() - 1))).toMatchObject({ tokenId: info.id });
      expect(await resolveToken(database.db, token, null, expiresAt)).toBeUndefined();
      expect(await resolveToken(database.db, token, null, new Date(expiresAt.getTime() + 24 * HOUR))).toBeUndefined();
      // Refusing an expired token does not record a use.
      expect((await tokenRow(database, info.id))!.last_used_at!.getTime()).toBe(expiresAt.getTime() - 1);
    },
    SLOW,
  );

  test(
    "tokens that were never issued, or are not tokens at all, are refused",
    async () => {
      const { token, info } = await createToken(database.db, ACTOR, { name: "real", role: "admin" });
      const row = await tokenRow(database, info.id);
      const candidates = [
        TOKEN_PREFIX + randomBytes(32).toString("base64url"),
        TOKEN_PREFIX,
        "",
        token.slice(4), // without the prefix
        token.toUpperCase(),
        token.slice(0, -1),
        token + "x",
        ` ${token}`,
        row!.token_hash, // the stored hash is not a credential
        TOKEN_PREFIX + row!.token_hash,
        TOKEN_PREFIX + "'; DROP TABLE api_tokens; --",
        TOKEN_PREFIX + "x".repeat(200),
      ];
      for (const c of candidates) expect(await resolveToken(database.db, c, "192.0.2.1")).toBeUndefined();
      // The real one still works and the table is intact.
      expect(await resolveToken(database.db, token, "192.0.2.1")).toMatchObject({ name: "real", role: "admin" });
    },
    SLOW,
  );

  test(
    "listTokens shows active, revoked and expired tokens, newest first",
    async () => {
      const fresh = await open();
      const active = await createToken(fresh.db, ACTOR, { name: "active", role: "viewer", expiresAt: new Date(Date.now() + HOUR) });
      const revoked = await createToken(fresh.db, ACTOR, { name: "revoked", role: "admin" });
      const expired = await createToken(fresh.db, ACTOR, { name: "expired", role: "viewer", expiresAt: new Date(Date.now() + HOUR) });
      const forever = await createToken(fresh.db, ACTOR, { name: "forever", role: "viewer" });
      await revokeToken(fresh.db, ACTOR, revoked.info.id);
      await fresh.query("update api_tokens set expires_at = now() - interval '1 minute' where id = $1", [expired.info.id]);

      const list = await listTokens(fresh.db);
      expect(list.map((t) => [t.name, t.status])).toEqual([
        ["forever", "active"],
        ["expired", "expired"],
        ["revoked", "revoked"],
        ["active", "active"],
      ]);
      expect(list.every((t) => t.prefix.startsWith(TOKEN_PREFIX) && t.prefix.length === 10)).toBe(true);
      expect(await resolveToken(fresh.db, expired.token, null)).toBeUndefined();
      expect(await resolveToken(fresh.db, active.token, null)).toBeDefined();
      expect(await resolveToken(fresh.db, forever.token, null)).toBeDefined();
      // Not revoked (the expired one included).
      expect(await findActiveTokens(fresh.db)).toBe(3);

      const audit = await fresh.query<{ action: string; target: string; details: Record<string, unknown> }>(
        "select action, target, details from audit_log order by id",
      );
      expect(audit.map((a) => [a.action, a.target])).toEqual([
        ["token.create", "active"],
        ["token.create", "revoked"],
        ["token.create", "expired"],
        ["token.create", "forever"],
        ["token.revoke", "revoked"],
      ]);
      expect(audit[3]!.details).toEqual({ id: forever.info.id, role: "viewer", expiresAt: null });
      expect(audit[4]!.details).toEqual({ id: revoked.info.id });
      // The audit log never holds the token.
      const text = await fresh.query<{ t: string }>("select string_agg(row_to_json(a)::text, ' ') as t from audit_log a");
      for (const t of [active, revoked, expired, forever]) expect(text[0]!.t).not.toContain(t.token.slice(10));
    },
    SLOW,
  );
});
