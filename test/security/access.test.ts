// Every route declares who may call it, and each rule holds against real requests as anonymous, viewer and admin.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accessOf } from "../../src/app.ts";
import { wantsJson } from "../../src/auth/principal.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { startTestHead, type As, type TestHead } from "../harness/head.ts";

/** Fills route parameters with ids that exist nowhere, so admin actions touch nothing real. */
function concrete(path: string): string {
  return path
    .replace(/:id\b/g, "999999")
    .replace(/:action\b/g, "role")
    .replace(/:name\b/g, "pico.min.css")
    .replace(/\*$/, "x");
}

function isLoginRedirect(r: Response): boolean {
  return r.status === 303 && (r.headers.get("location") ?? "").startsWith("/login?next=");
}

describeEachEngine("route access", (engine) => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead(engine);
  }, 60_000);
  afterAll(() => head.close());

  test("every route of the app declares an access rule", () => {
    const routes = head.app.routes.map((r) => ({ route: `${r.method} ${r.path}`, access: accessOf(r) }));
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((r) => !r.access)).toEqual([]);
  });

  test("each rule holds for anonymous, viewer, admin and agent callers", async () => {
    const failures: string[] = [];
    for (const r of head.app.routes) {
      const rule = accessOf(r)!;
      // WebSocket routes answer only upgrades; the agent tests check who may open them.
      if (r.method === "WS") continue;
      const path = concrete(r.path);
      const json = wantsJson(path);
      const callers: As[] = json
        ? ["anonymous", "viewer-token", "admin-token", "viewer", "admin", "agent"]
        : ["anonymous", "viewer", "admin", "agent"];
      for (const as of callers) {
        const res = await head.request(path, { as, method: r.method, form: r.method === "GET" ? undefined : {} });
        const body = json ? await res.clone().text() : "";
        const role = as === "agent" ? "agent" : as.startsWith("admin") ? "admin" : as.startsWith("viewer") ? "viewer" : "anonymous";
        // Denials by the access rules, told apart from a handler's own 403 (a bad enrollment token).
        const refusedAnon = json ? res.status === 401 : isLoginRedirect(res);
        const forbidden = res.status === 403 && (!json || body.includes('"forbidden: '));
        const refused = refusedAnon || forbidden;
        let ok: boolean;
        if (rule === "public") ok = !refused;
        else if (role === "anonymous") ok = refusedAnon;
        else if (rule === "agent") ok = role === "agent" ? !refused : refused;
        else if (role === "agent") ok = refused;
        else if (rule === "viewer") ok = !refused;
        else ok = role === "admin" ? !refused : forbidden;
        if (!ok) failures.push(`${r.method} ${r.path} [${rule}] as ${as}: ${res.status} ${res.headers.get("location") ?? ""}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("anonymous API calls get 401 with WWW-Authenticate, pages a redirect to sign in", async () => {
    const api = await head.request("/api/v1/workers");
    expect(api.status).toBe(401);
    expect(api.headers.get("www-authenticate")).toBe('Bearer realm="vigil"');
    expect(await api.json()).toEqual({ error: "authentication required: sign in or send Authorization: Bearer <token>" });
    const page = await head.request("/admin/users?x=1");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Fadmin%2Fusers%3Fx%3D1");
  });

  test("a bearer token opens the API but not the pages", async () => {
    expect((await head.request("/api/v1/workers", { as: "admin-token" })).status).toBe(200);
    expect(isLoginRedirect(await head.request("/admin/users", { as: "admin-token" }))).toBe(true);
    expect(isLoginRedirect(await head.request("/", { as: "viewer-token" }))).toBe(true);
  });

  test("every response carries the security headers", async () => {
    for (const path of ["/healthz", "/login", "/static/pico.min.css", "/api/v1/workers", "/nowhere"]) {
      const r = await head.request(path);
      const csp = r.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("same-origin");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
    }
  });
});

describe("pages have no inline script or style", () => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead("pglite");
  }, 60_000);
  afterAll(() => head.close());

  test("the CSP forbids them, so none may exist", async () => {
    for (const [path, as] of [
      ["/login", "anonymous"],
      ["/", "viewer"],
      ["/account/password", "viewer"],
      ["/admin/users", "admin"],
      ["/admin/tokens", "admin"],
      ["/admin/audit", "admin"],
      ["/alerts", "viewer"],
      ["/health", "viewer"],
      ["/settings", "viewer"],
    ] as const) {
      const html = await (await head.request(path, { as })).text();
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
      expect(html).not.toMatch(/\sstyle="/i);
      expect(html).not.toMatch(/\son[a-z]+="/i);
    }
  });
});
