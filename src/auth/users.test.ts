import { beforeAll, expect, test } from "bun:test";
import { describeEachEngine } from "../../test/harness/engines.ts";
import type { Database } from "../db/client.ts";
import type { Actor } from "./audit.ts";
import { verifyPassword } from "./passwords.ts";
import { countSessions, createSession, resolveSession } from "./sessions.ts";
import { InputError } from "./text.ts";
import { createToken, listTokens, resolveToken } from "./tokens.ts";
import { addUser, checkRole, countUsers, findUser, getUser, listUsers, removeUser, setPassword, setRole } from "./users.ts";

const POLICY = { idleMs: 60 * 60_000, maxMs: 24 * 60 * 60_000 };
const SLOW = 60_000; // opening a database and argon2 hashing take seconds, not milliseconds
const ADMIN: Actor = { label: "user:root", userId: 1, ip: "192.0.2.1" };

interface AuditRowSql {
  actor: string;
  user_id: number | null;
  action: string;
  target: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

async function auditRows(database: Database, target?: string): Promise<AuditRowSql[]> {
  const where = target === undefined ? "" : "where target = $1";
  return database.query<AuditRowSql>(
    `select actor, user_id, action, target, ip, details from audit_log ${where} order by id`,
    target === undefined ? [] : [target],
  );
}

async function usersTableExists(database: Database): Promise<boolean> {
  const r = await database.query<{ t: string | null }>("select to_regclass('public.users')::text as t");
  return r[0]?.t === "users";
}

describeEachEngine("users", (_engine, open) => {
  let database: Database;
  beforeAll(async () => {
    database = await open();
    // An admin nobody removes, so the last-admin rule stays out of the way of the tests sharing this database.
    await addUser(database.db, ADMIN, { name: "keeper", role: "admin", password: "keeper password" });
  }, SLOW);

  test("checkRole accepts admin and viewer only", () => {
    expect(checkRole("admin")).toBe("admin");
    expect(checkRole("viewer")).toBe("viewer");
    for (const bad of ["Admin", "root", "", null, undefined, 1])
      expect(() => checkRole(bad)).toThrow(new InputError("role must be admin or viewer"));
  });

  test(
    "addUser stores a user with an argon2id hash that findUser and getUser read back",
    async () => {
      const before = Date.now();
      const info = await addUser(database.db, ADMIN, { name: "  alice  ", role: "viewer", password: "alice password" });
      expect(info).toMatchObject({ name: "alice", role: "viewer", lastLoginAt: null });
      expect(info.id).toBeGreaterThan(0);
      expect(Date.parse(info.createdAt)).toBeGreaterThanOrEqual(before - 5000);
      expect(info.passwordChangedAt).toBe(info.createdAt);

      const row = await findUser(database.db, "alice");
      expect(row).toBeDefined();
      expect(row!.id).toBe(info.id);
      expect(row!.name).toBe("alice");
      expect(row!.role).toBe("viewer");
      expect(row!.passwordHash.startsWith("$argon2id$")).toBe(true);
      expect(row!.passwordHash).not.toContain("alice password");
      expect(await verifyPassword("alice password", row!.passwordHash)).toBe(true);
      expect(await verifyPassword("wrong password", row!.passwordHash)).toBe(false);

      expect((await getUser(database.db, info.id))?.name).toBe("alice");
      expect(await getUser(database.db, 999_999)).toBeUndefined();
      expect(await findUser(database.db, "nobody")).toBeUndefined();
      // Names match exactly: no trimming or case folding on lookup.
      expect(await findUser(database.db, "Alice")).toBeUndefined();
      expect(await findUser(database.db, " alice")).toBeUndefined();
      expect((await listUsers(database.db)).map((u) => u.name)).toContain("alice");
    },
    SLOW,
  );

  test(
    "addUser refuses bad input with an InputError and writes nothing",
    async () => {
      const n = await countUsers(database.db);
      await expect(addUser(database.db, ADMIN, { name: "", role: "viewer", password: "long enough" })).rejects.toThrow(
        new InputError("user name is required"),
      );
      await expect(addUser(database.db, ADMIN, { name: "x\ny", role: "viewer", password: "long enough" })).rejects.toThrow(InputError);
      await expect(addUser(database.db, ADMIN, { name: "frank", role: "root", password: "long enough" })).rejects.toThrow(
        new InputError("role must be admin or viewer"),
      );
      await expect(addUser(database.db, ADMIN, { name: "frank", role: "viewer", password: "short" })).rejects.toThrow(
        new InputError("password is too short (at least 8 characters)"),
      );
      await expect(addUser(database.db, ADMIN, { name: "frank", role: "viewer", password: undefined })).rejects.toThrow(InputError);
      expect(await countUsers(database.db)).toBe(n);
      expect(await findUser(database.db, "frank")).toBeUndefined();
      expect(await auditRows(database, "frank")).toEqual([]);
    },
    SLOW,
  );

  test(
    "a duplicate name is refused with InputError, also after trimming; another case is another user",
    async () => {
      await addUser(database.db, ADMIN, { name: "dup", role: "viewer", password: "first password" });
      const n = await countUsers(database.db);
      await expect(addUser(database.db, ADMIN, { name: "dup", role: "admin", password: "second password" })).rejects.toThrow(
        new InputError("a user with that name already exists"),
      );
      await expect(addUser(database.db, ADMIN, { name: "  dup ", role: "viewer", password: "second password" })).rejects.toThrow(
        InputError,
      );
      expect(await countUsers(database.db)).toBe(n);
      // The original is untouched.
      const row = await findUser(database.db, "dup");
      expect(row!.role).toBe("viewer");
      expect(await verifyPassword("first password", row!.passwordHash)).toBe(true);
      expect((await auditRows(database, "dup")).filter((r) => r.action === "user.add")).toHaveLength(1);

      await addUser(database.db, ADMIN, { name: "Dup", role: "viewer", password: "third password" });
      expect(await countUsers(database.db)).toBe(n + 1);
    },
    SLOW,
  );

  test(
    "names with SQL metacharacters, unicode and 64 KiB are stored and read back byte for byte",
    async () => {
      const names = [
        `'; DROP TABLE users; --`,
        `" OR 1=1 --`,
        `robert'); DELETE FROM users WHERE ('1'='1`,
        `back\\slash \\' \\\\ \\x00 $1 %s`,
        `ünïcödé 名前 🔑 שלום`,
        "n".repeat(65_536),
        "名".repeat(65_536),
      ];
      const before = await countUsers(database.db);
      for (const name of names) {
        const info = await addUser(database.db, ADMIN, { name, role: "viewer", password: "some password" });
        expect(info.name).toBe(name);
      }
      expect(await usersTableExists(database)).toBe(true);
      expect(await countUsers(database.db)).toBe(before + names.length);
      for (const name of names) {
        const row = await findUser(database.db, name);
        expect(row?.name).toBe(name);
        // What the database holds, byte for byte.
        const [sqlRow] = await database.query<{ name: string; bytes: number }>(
          "select name, octet_length(name) as bytes from users where id = $1",
          [row!.id],
        );
        expect(sqlRow!.name).toBe(name);
        expect(Number(sqlRow!.bytes)).toBe(Buffer.byteLength(name, "utf8"));
        // The same name is still refused as a duplicate.
        await expect(addUser(database.db, ADMIN, { name, role: "viewer", password: "some password" })).rejects.toThrow(InputError);
      }
      // A prefix of the long name is not the long name.
      expect(await findUser(database.db, "n".repeat(65_535))).toBeUndefined();
      // And the table is still there with every user in it.
      expect(await usersTableExists(database)).toBe(true);
      const listed = (await listUsers(database.db)).map((u) => u.name);
      for (const name of names) expect(listed).toContain(name);
    },
    SLOW,
  );

  test(
    "setPassword changes the hash and ends every session of that user, not of others",
    async () => {
      const carol = await addUser(database.db, ADMIN, { name: "carol", role: "viewer", password: "carol password 1" });
      const dan = await addUser(database.db, ADMIN, { name: "dan", role: "viewer", password: "dan password 1" });
      const s1 = await createSession(database.db, carol.id, POLICY, { ip: "192.0.2.10", userAgent: "laptop" });
      const s2 = await createSession(database.db, carol.id, POLICY, { ip: "192.0.2.11", userAgent: "phone" });
      const sDan = await createSession(database.db, dan.id, POLICY);
      expect((await resolveSession(database.db, s1.secret, POLICY))?.name).toBe("carol");
      expect((await resolveSession(database.db, s2.secret, POLICY))?.name).toBe("carol");
      expect(await countSessions(database.db, carol.id)).toBe(2);

      const changed = await setPassword(database.db, ADMIN, "carol", "carol password 2");
      expect(changed.name).toBe("carol");
      expect(Date.parse(changed.passwordChangedAt)).toBeGreaterThanOrEqual(Date.parse(carol.passwordChangedAt));

      expect(await resolveSession(database.db, s1.secret, POLICY)).toBeUndefined();
      expect(await resolveSession(database.db, s2.secret, POLICY)).toBeUndefined();
      expect(await countSessions(database.db, carol.id)).toBe(0);
      expect(await resolveSession(database.db, sDan.secret, POLICY)).toMatchObject({ name: "dan", userId: dan.id });

      const row = await findUser(database.db, "carol");
      expect(await verifyPassword("carol password 2", row!.passwordHash)).toBe(true);
      expect(await verifyPassword("carol password 1", row!.passwordHash)).toBe(false);
      expect((await auditRows(database, "carol")).map((r) => r.action)).toEqual(["user.add", "user.passwd"]);
    },
    SLOW,
  );

  test(
    "setPassword refuses unknown users and bad passwords, leaving sessions alone",
    async () => {
      const erin = await addUser(database.db, ADMIN, { name: "erin", role: "viewer", password: "erin password" });
      const s = await createSession(database.db, erin.id, POLICY);
      await expect(setPassword(database.db, ADMIN, "nobody-here", "long enough")).rejects.toThrow(new InputError("no such user"));
      await expect(setPassword(database.db, ADMIN, "erin", "short")).rejects.toThrow(
        new InputError("password is too short (at least 8 characters)"),
      );
      expect(await resolveSession(database.db, s.secret, POLICY)).toMatchObject({ name: "erin" });
      const row = await findUser(database.db, "erin");
      expect(await verifyPassword("erin password", row!.passwordHash)).toBe(true);
      expect((await auditRows(database, "erin")).map((r) => r.action)).toEqual(["user.add"]);
    },
    SLOW,
  );

  test(
    "removeUser deletes the user's sessions and revokes the tokens they created, not others'",
    async () => {
      const gina = await addUser(database.db, ADMIN, { name: "gina", role: "admin", password: "gina password" });
      const hank = await addUser(database.db, ADMIN, { name: "hank", role: "viewer", password: "hank password" });
      const sGina = await createSession(database.db, gina.id, POLICY);
      const sHank = await createSession(database.db, hank.id, POLICY);
      const ginaActor: Actor = { label: "user:gina", userId: gina.id, ip: "192.0.2.20" };
      const t1 = await createToken(database.db, ginaActor, { name: "gina-ci", role: "admin" });
      const t2 = await createToken(database.db, ginaActor, { name: "gina-metrics", role: "viewer" });
      const tHank = await createToken(database.db, { label: "user:hank", userId: hank.id }, { name: "hank-ci", role: "viewer" });
      const tNobody = await createToken(database.db, { label: "cli:root" }, { name: "cli-token", role: "viewer" });
      expect(await resolveToken(database.db, t1.token, null)).toMatchObject({ name: "gina-ci" });

      await removeUser(database.db, ADMIN, "gina");

      expect(await findUser(database.db, "gina")).toBeUndefined();
      expect(await getUser(database.db, gina.id)).toBeUndefined();
      expect(await resolveSession(database.db, sGina.secret, POLICY)).toBeUndefined();
      const left = await database.query<{ n: number }>("select count(*)::int as n from sessions where user_id = $1", [gina.id]);
      expect(left[0]!.n).toBe(0);
      expect(await resolveToken(database.db, t1.token, null)).toBeUndefined();
      expect(await resolveToken(database.db, t2.token, null)).toBeUndefined();

      const tokens = new Map((await listTokens(database.db)).map((t) => [t.id, t]));
      expect(tokens.get(t1.info.id)?.status).toBe("revoked");
      expect(tokens.get(t2.info.id)?.status).toBe("revoked");
      expect(tokens.get(tHank.info.id)?.status).toBe("active");
      expect(tokens.get(tNobody.info.id)?.status).toBe("active");
      // The creator reference is cleared with the user (ON DELETE SET NULL).
      const createdBy = await database.query<{ created_by: number | null }>("select created_by from api_tokens where id = $1", [
        t1.info.id,
      ]);
      expect(createdBy[0]!.created_by).toBeNull();

      // Another user's session and tokens still work.
      expect(await resolveSession(database.db, sHank.secret, POLICY)).toMatchObject({ name: "hank" });
      expect(await resolveToken(database.db, tHank.token, null)).toMatchObject({ name: "hank-ci" });
      expect(await resolveToken(database.db, tNobody.token, null)).toMatchObject({ name: "cli-token" });

      await expect(removeUser(database.db, ADMIN, "gina")).rejects.toThrow(new InputError("no such user"));
      expect((await auditRows(database, "gina")).map((r) => r.action)).toEqual(["user.add", "user.remove"]);
    },
    SLOW,
  );

  test(
    "the last admin can be neither removed nor demoted until a second admin exists",
    async () => {
      const fresh = await open();
      const db = fresh.db;
      await addUser(db, ADMIN, { name: "root", role: "admin", password: "root password" });
      await addUser(db, ADMIN, { name: "viewer1", role: "viewer", password: "viewer password" });

      await expect(removeUser(db, ADMIN, "root")).rejects.toThrow(new InputError("root is the last admin; make another admin first"));
      await expect(setRole(db, ADMIN, "root", "viewer")).rejects.toThrow(
        new InputError("root is the last admin; make another admin first"),
      );
      expect((await findUser(db, "root"))?.role).toBe("admin");
      // Setting the same role is not a demotion.
      expect((await setRole(db, ADMIN, "root", "admin")).role).toBe("admin");
      await expect(setRole(db, ADMIN, "root", "superuser")).rejects.toThrow(new InputError("role must be admin or viewer"));
      await expect(setRole(db, ADMIN, "ghost", "viewer")).rejects.toThrow(new InputError("no such user"));
      // Viewers may always go.
      await removeUser(db, ADMIN, "viewer1");

      // Promote a second admin: now either may be demoted or removed, but not both.
      await addUser(db, ADMIN, { name: "ops", role: "viewer", password: "ops password" });
      expect((await setRole(db, ADMIN, "ops", "admin")).role).toBe("admin");
      expect((await setRole(db, ADMIN, "root", "viewer")).role).toBe("viewer");
      await expect(removeUser(db, ADMIN, "ops")).rejects.toThrow(new InputError("ops is the last admin; make another admin first"));
      await expect(setRole(db, ADMIN, "ops", "viewer")).rejects.toThrow(InputError);

      expect((await setRole(db, ADMIN, "root", "admin")).role).toBe("admin");
      await removeUser(db, ADMIN, "ops");
      expect((await listUsers(db)).map((u) => [u.name, u.role])).toEqual([["root", "admin"]]);
      await expect(removeUser(db, ADMIN, "root")).rejects.toThrow(InputError);

      const roles = (await auditRows(fresh)).filter((r) => r.action === "user.role").map((r) => [r.target, r.details]);
      expect(roles).toEqual([
        ["root", { from: "admin", to: "admin" }],
        ["ops", { from: "viewer", to: "admin" }],
        ["root", { from: "admin", to: "viewer" }],
        ["root", { from: "viewer", to: "admin" }],
      ]);
    },
    SLOW,
  );

  test(
    "a role change takes effect on the user's live sessions at once",
    async () => {
      const ivy = await addUser(database.db, ADMIN, { name: "ivy", role: "admin", password: "ivy password" });
      const s = await createSession(database.db, ivy.id, POLICY);
      expect((await resolveSession(database.db, s.secret, POLICY))?.role).toBe("admin");
      await setRole(database.db, ADMIN, "ivy", "viewer");
      expect((await resolveSession(database.db, s.secret, POLICY))?.role).toBe("viewer");
    },
    SLOW,
  );

  test(
    "every change writes one audit row with the action, actor, target and details; refusals write none",
    async () => {
      const fresh = await open();
      const db = fresh.db;
      const actor: Actor = { label: "user:root", userId: 7, ip: "2001:db8::7" };
      const cli: Actor = { label: "cli:operator" };
      const name = `'; DROP TABLE audit_log; --`;

      await addUser(db, cli, { name: "root", role: "admin", password: "root password" });
      await addUser(db, actor, { name, role: "viewer", password: "target password" });
      await setPassword(db, actor, name, "target password 2");
      await setRole(db, actor, name, "admin");
      await setRole(db, actor, name, "viewer");
      // Refused changes are not audited.
      await expect(addUser(db, actor, { name, role: "viewer", password: "target password" })).rejects.toThrow(InputError);
      await expect(setRole(db, actor, "root", "viewer")).rejects.toThrow(InputError);
      await expect(removeUser(db, actor, "root")).rejects.toThrow(InputError);
      await removeUser(db, actor, name);

      expect(await auditRows(fresh)).toEqual([
        { actor: "cli:operator", user_id: null, action: "user.add", target: "root", ip: null, details: { role: "admin" } },
        { actor: "user:root", user_id: 7, action: "user.add", target: name, ip: "2001:db8::7", details: { role: "viewer" } },
        { actor: "user:root", user_id: 7, action: "user.passwd", target: name, ip: "2001:db8::7", details: {} },
        { actor: "user:root", user_id: 7, action: "user.role", target: name, ip: "2001:db8::7", details: { from: "viewer", to: "admin" } },
        { actor: "user:root", user_id: 7, action: "user.role", target: name, ip: "2001:db8::7", details: { from: "admin", to: "viewer" } },
        { actor: "user:root", user_id: 7, action: "user.remove", target: name, ip: "2001:db8::7", details: {} },
      ]);
      // The audit rows never hold a password or its hash.
      const text = await fresh.query<{ t: string }>("select string_agg(row_to_json(a)::text, ' ') as t from audit_log a");
      expect(text[0]!.t).not.toContain("password");
      expect(text[0]!.t).not.toContain("argon2");
    },
    SLOW,
  );

  test(
    "two admins removing or demoting each other at once leave one admin",
    async () => {
      for (const op of ["remove", "demote"] as const) {
        const fresh = await open();
        const db = fresh.db;
        await addUser(db, ADMIN, { name: "a", role: "admin", password: "a password" });
        await addUser(db, ADMIN, { name: "b", role: "admin", password: "b password" });
        const act = (name: string) => (op === "remove" ? removeUser(db, ADMIN, name) : setRole(db, ADMIN, name, "viewer"));
        const results = await Promise.allSettled([act("a"), act("b")]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        expect(refused.reason).toBeInstanceOf(InputError);
        expect((await listUsers(db)).filter((u) => u.role === "admin")).toHaveLength(1);
      }
    },
    SLOW,
  );
});
