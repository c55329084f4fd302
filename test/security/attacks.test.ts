// The attacks that hit monitoring dashboards, tried against the real app: CSRF, stale sessions and tokens, brute force, forged addresses, injection.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { apiTokens, auditLog, users } from "../../src/db/schema/index.ts";
import { SYSTEM } from "../../src/auth/audit.ts";
import { createToken, revokeToken } from "../../src/auth/tokens.ts";
import { setPassword } from "../../src/auth/users.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { PASSWORDS, setCookieOf, startTestHead, type TestHead } from "../harness/head.ts";

const EVIL = "https://evil.example";

async function auditRows(head: TestHead, action: string) {
  return head.database.db.select().from(auditLog).where(eq(auditLog.action, action)).orderBy(auditLog.id);
}

async function login(head: TestHead, name: string, password: string, peer = "192.0.2.10") {
  return head.request("/login", { form: { name, password, next: "/" }, peer });
}

describeEachEngine("attacks", (engine) => {
  let head: TestHead;
  beforeAll(async () => {
    // Proxies: loopback only. Small limits keep the brute-force test short.
    head = await startTestHead(engine, {
      env: { VIGIL_TRUSTED_PROXIES: "127.0.0.1, ::1" },
      limits: { perAccount: 5, perAddress: 12, windowMs: 15 * 60_000 },
    });
  }, 60_000);
  afterAll(() => head.close());

  test("a cross-origin POST is refused and changes nothing", async () => {
    const before = (await head.database.db.select().from(users)).length;
    const evil = await head.request("/admin/users", {
      as: "admin",
      form: { name: "mallory", role: "admin", password: "mallory-pass-1" },
      headers: { origin: EVIL, "sec-fetch-site": "cross-site" },
    });
    expect(evil.status).toBe(403);
    expect(await evil.text()).toContain("cross-origin request refused");
    // Sec-Fetch-Site alone (an Origin-less browser request) is enough to refuse.
    const noOrigin = await head.request("/admin/users", {
      as: "admin",
      form: { name: "mallory", role: "admin", password: "mallory-pass-1" },
      crossSite: true,
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(noOrigin.status).toBe(403);
    // Login CSRF (signing the victim into the attacker's account) is refused too.
    const loginCsrf = await head.request("/login", { form: { name: "root-admin", password: PASSWORDS.admin }, headers: { origin: EVIL } });
    expect(loginCsrf.status).toBe(403);
    expect(setCookieOf(loginCsrf)).toBeUndefined();
    expect((await head.database.db.select().from(users)).length).toBe(before);
    // The same form from the head's own origin works.
    const ok = await head.request("/admin/users", { as: "admin", form: { name: "carol", role: "viewer", password: "carol-pass-1" } });
    expect(ok.status).toBe(201);
  });

  test("a viewer cannot reach admin actions", async () => {
    const r = await head.request("/admin/users", { as: "viewer", form: { name: "eve", role: "admin", password: "eve-pass-12" } });
    expect(r.status).toBe(403);
    expect((await head.database.db.select().from(users).where(eq(users.name, "eve"))).length).toBe(0);
  });

  test("a session opened before a password change is refused after it", async () => {
    const first = setCookieOf(await login(head, "val-viewer", PASSWORDS.viewer));
    const second = setCookieOf(await login(head, "val-viewer", PASSWORDS.viewer));
    expect(first).toBeDefined();
    expect((await head.request("/", { cookie: first })).status).toBe(200);
    // Changed in the browser's second session: the first dies, the second is replaced by a fresh one.
    const change = await head.request("/account/password", {
      cookie: second,
      form: { current: PASSWORDS.viewer, password: "new-viewer-pass-2", confirm: "new-viewer-pass-2" },
    });
    expect(change.status).toBe(200);
    const renewed = setCookieOf(change);
    expect((await head.request("/", { cookie: first })).status).toBe(303);
    expect((await head.request("/", { cookie: second })).status).toBe(303);
    expect((await head.request("/", { cookie: renewed })).status).toBe(200);
    // Changed elsewhere (the CLI or an admin): every session of the user ends.
    await setPassword(head.database.db, SYSTEM, "val-viewer", PASSWORDS.viewer);
    expect((await head.request("/", { cookie: renewed })).status).toBe(303);
    expect((await head.request("/api/v1/workers", { cookie: renewed })).status).toBe(401);
  });

  test("a revoked or expired token is refused; use is recorded", async () => {
    const { token, info } = await createToken(head.database.db, SYSTEM, { name: "short-lived", role: "viewer" });
    const call = () => head.request("/api/v1/workers", { headers: { authorization: `Bearer ${token}` }, peer: "198.51.100.7" });
    expect((await call()).status).toBe(200);
    const [row] = await head.database.db.select().from(apiTokens).where(eq(apiTokens.id, info.id));
    expect(row!.lastUsedIp).toBe("198.51.100.7");
    expect(row!.lastUsedAt).toBeInstanceOf(Date);
    await revokeToken(head.database.db, SYSTEM, info.id);
    const revoked = await call();
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ error: "authentication required: invalid, expired or revoked token" });

    const soon = await createToken(head.database.db, SYSTEM, { name: "expiring", role: "viewer", expiresAt: new Date(Date.now() + 1500) });
    const call2 = () => head.request("/api/v1/workers", { headers: { authorization: `Bearer ${soon.token}` } });
    expect((await call2()).status).toBe(200);
    await Bun.sleep(1600);
    expect((await call2()).status).toBe(401);
    // Tokens are stored as hashes only.
    const stored = await head.database.query<{ t: string }>("select row_to_json(t)::text as t from api_tokens t");
    for (const r of stored) expect(r.t).not.toContain(soon.token.slice(4));
  });

  test("brute-force login is slowed per account and per address, and logged", async () => {
    const peer = "203.0.113.50";
    for (let i = 0; i < 5; i++) expect((await login(head, "root-admin", `guess-${i}-xxxx`, peer)).status).toBe(401);
    const blocked = await login(head, "root-admin", PASSWORDS.admin, peer); // even the right password waits
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(800);
    expect(await blocked.text()).toContain("Too many failed sign-ins for this account. Try again in 15 minutes.");
    const failures = (await auditRows(head, "login.failure")).filter((r) => r.ip === peer);
    expect(failures).toHaveLength(5);
    expect(failures[0]).toMatchObject({ actor: "anonymous", target: "root-admin" });
    expect((await auditRows(head, "login.blocked")).some((r) => r.ip === peer && r.target === "root-admin")).toBe(true);

    // Spraying many accounts from one address hits the per-address limit.
    const sprayer = "203.0.113.51";
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) statuses.push((await login(head, `user-${i}`, "wrong-password", sprayer)).status);
    expect(statuses.slice(0, 12).every((s) => s === 401)).toBe(true);
    expect(statuses[12]).toBe(429);
  });

  test("a forged X-Forwarded-For from an untrusted peer does not change the recorded client", async () => {
    await login(head, "nobody-1", "wrong-password", "192.0.2.99");
    await head.request("/login", {
      form: { name: "nobody-2", password: "wrong-password" },
      peer: "192.0.2.99",
      headers: { "x-forwarded-for": "10.9.9.9" },
    });
    // From the trusted proxy the header counts: the rightmost address the proxy did not add itself.
    await head.request("/login", {
      form: { name: "nobody-3", password: "wrong-password" },
      peer: "127.0.0.1",
      headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.23" },
    });
    const rows = await auditRows(head, "login.failure");
    const ipOf = (name: string) => rows.find((r) => r.target === name)?.ip;
    expect(ipOf("nobody-1")).toBe("192.0.2.99");
    expect(ipOf("nobody-2")).toBe("192.0.2.99");
    expect(ipOf("nobody-3")).toBe("198.51.100.23");
  });

  test("a proxy's X-Forwarded-Proto: https makes the cookie Secure; a forged one does not", async () => {
    // carol (added in the first test): root-admin is locked out by the brute-force test.
    const viaProxy = await head.request("/login", {
      form: { name: "carol", password: "carol-pass-1" },
      peer: "127.0.0.1",
      headers: { "x-forwarded-proto": "https" },
      crossSite: true,
    });
    const direct = await head.request("/login", {
      form: { name: "carol", password: "carol-pass-1" },
      peer: "192.0.2.77",
      headers: { "x-forwarded-proto": "https" },
      crossSite: true,
    });
    expect(viaProxy.status).toBe(303);
    const cookieOf = (r: Response) => r.headers.getSetCookie().join(";");
    expect(cookieOf(viaProxy)).toContain("Secure");
    expect(cookieOf(viaProxy)).toContain("HttpOnly");
    expect(cookieOf(viaProxy)).toContain("SameSite=Strict");
    expect(cookieOf(direct)).not.toContain("Secure");
    expect(cookieOf(direct)).toContain("HttpOnly");
  });

  test("the sign-in page never redirects off-site", async () => {
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const r = await head.request("/login", { form: { name: "carol", password: "carol-pass-1", next }, peer: "192.0.2.200" });
      expect(r.status).toBe(303);
      expect(r.headers.get("location")).toBe("/");
    }
  });

  test("SQL metacharacters and 64 KiB strings in every text field are stored and shown as text", async () => {
    const nasty = [`'; DROP TABLE users; --`, `" OR 1=1 --`, `<script>alert(1)</script>\\'\\"`, `x`.repeat(65_536 - 3) + "<b>"];
    for (const [i, value] of nasty.entries()) {
      // User name (and a password of the same text, where long enough).
      const password = value.length >= 8 ? value : `${value}-padding`;
      const added = await head.request("/admin/users", { as: "admin", form: { name: value, role: "viewer", password } });
      expect(added.status).toBe(201);
      const [stored] = await head.database.db
        .select()
        .from(users)
        .where(sql`md5(${users.name}) = md5(${value})`);
      expect(stored!.name).toBe(value);
      // That user can sign in with that password.
      const signedIn = await login(head, value, password, `192.0.2.${120 + i}`);
      expect(signedIn.status).toBe(303);
      // Token name.
      const tok = await head.request("/admin/tokens", { as: "admin", form: { name: value, role: "viewer", expiresDays: "" } });
      expect(tok.status).toBe(201);
      const [t] = await head.database.db
        .select()
        .from(apiTokens)
        .where(sql`md5(${apiTokens.name}) = md5(${value})`);
      expect(t!.name).toBe(value);
      // A failed sign-in's claimed name lands in the audit log as text.
      await login(head, `${value}!`, "wrong-password", `192.0.2.${140 + i}`);
      const claimed = await head.database.db
        .select()
        .from(auditLog)
        .where(sql`md5(${auditLog.target}) = md5(${`${value}!`})`);
      expect(claimed.length).toBeGreaterThan(0);
    }
    // Shown escaped on every page that lists them.
    for (const page of ["/admin/users", "/admin/tokens", "/admin/audit"]) {
      const html = await (await head.request(page, { as: "admin" })).text();
      expect(html).not.toContain("<script>alert(1)</script>");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html).not.toContain("x<b>");
    }
    // The schema is intact.
    expect((await head.database.query<{ n: number }>("select count(*)::int as n from users"))[0]!.n).toBeGreaterThan(4);
  }, 60_000);
});
