// The health pages against a real head: cards by state, one service's timeline and checks, admins' forms and actions (and their refusal to viewers), overrides, the live view, and /status.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { SYSTEM } from "../../src/auth/audit.ts";
import { auditLog, preflightOverrides } from "../../src/db/schema/index.ts";
import { saveService } from "../../src/health/store.ts";
import type { Segment } from "../../src/health/uptime.ts";
import { healthViewName, parseHealthView, timelineBar, type HealthView } from "../../views/partials/health/model.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { partialsOf, SseReader } from "../live/sse-reader.ts";

const EVIL = "<img src=x onerror=alert(1)>";
const SEEDED = ["Vigil head", "Database", "Live event bus", "Notification channels"];

/** The HTML of the element whose id is `id`, from its opening tag up to the end of its section (or of the page). */
function region(html: string, id: string): string {
  const at = html.indexOf(`id="${id}"`);
  expect(at).toBeGreaterThan(-1);
  const end = html.indexOf("</section>", at);
  return html.slice(html.lastIndexOf("<", at), end < 0 ? undefined : end);
}

/** One card: from its opening tag to the next card (or the end of the grid). */
function card(html: string, id: number): string {
  const at = html.indexOf(`id="service-${id}"`);
  expect(at).toBeGreaterThan(-1);
  const next = html.indexOf('class="service-card', at + 20);
  return html.slice(html.lastIndexOf("<", at), next < 0 ? html.indexOf("</section>", at) : next);
}

/** Outside double-quoted attributes (where quotes are escaped and "<" is inert), nothing from data may open a tag. */
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""');

describe("health pages", () => {
  let head: TestHead;
  let server: ReturnType<typeof Bun.serve>;
  /** The HTTP service's port (a stopped server forgets it). */
  let port: number;
  let webId: number;
  const seeded: Record<string, number> = {};

  const page = async (path: string, as: "viewer" | "admin" = "viewer") => {
    const res = await head.request(path, { as });
    return { status: res.status, html: await res.text() };
  };
  const post = (path: string, form: Record<string, string>, as: "viewer" | "admin" = "admin", headers?: Record<string, string>) =>
    head.request(path, { as, form, headers });
  const auditOf = async (action: string) =>
    (await head.database.db.select().from(auditLog).where(eq(auditLog.action, action))).map((a) => [a.actor, a.target]);

  beforeAll(async () => {
    head = await startTestHead("pglite", { env: { VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8" } });
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ready") });
    port = server.port!;
    for (const s of head.ctx.health.services()) seeded[s.name] = s.id;
    for (const name of SEEDED) await head.ctx.health.checkNow(seeded[name]!);
    const web = await saveService(head.database.db, SYSTEM, {
      name: "web-frontend",
      kind: "http",
      config: { url: `http://127.0.0.1:${port}/health` },
      critical: true,
    });
    webId = web.id;
    await head.ctx.health.reload(webId);
    expect((await head.ctx.health.checkNow(webId))?.status).toBe("healthy");
  }, 60_000);
  afterAll(async () => {
    server?.stop(true);
    await head?.close();
  });

  test("the view name round-trips, and names nothing else", () => {
    const views: HealthView[] = [
      { page: "list", admin: false },
      { page: "list", admin: true },
      { page: "service", serviceId: 7, days: 30 },
      { page: "service", serviceId: 12, days: 1 },
    ];
    for (const v of views) {
      const name = healthViewName(v);
      expect(parseHealthView(name === "health" ? undefined : name.slice("health:".length))).toEqual(v);
    }
    for (const bad of ["root", "service:0:7", "service:7:5", "service:x:7", "service:7", "admin:1"])
      expect(parseHealthView(bad)).toBeUndefined();
  });

  test("a timeline bar sums to 100 % and keeps a short outage visible", () => {
    const from = 0;
    const to = 86_400_000;
    const w = (status: Segment["status"], a: number, b: number): Segment => ({ status, from: a, to: b, ms: b - a, ongoing: false });
    // An hour unknown, then healthy with a two-minute outage in the middle.
    const parts = timelineBar(
      [w("healthy", 3_600_000, 40_000_000), w("down", 40_000_000, 40_120_000), w("healthy", 40_120_000, to)],
      from,
      to,
    );
    expect(parts.map((p) => p.state)).toEqual(["unknown", "healthy", "down", "healthy"]);
    expect(parts.reduce((n, p) => n + p.width, 0)).toBe(100);
    expect(parts[2]!.width).toBe(1);
    expect(timelineBar([], from, to)).toMatchObject([{ state: "unknown", width: 100 }]);
  });

  test("cards show each service's state; a stopped HTTP service turns down; an unchecked one says so", async () => {
    const { status, html } = await page("/health");
    expect(status).toBe(200);
    const cards = region(html, "health-services");
    for (const name of SEEDED) {
      const c = card(cards, seeded[name]!);
      expect(c).toContain(name);
      expect(c).toMatch(/class="service-card state-(healthy|degraded|down)/);
      expect(c).toMatch(/\d+s ago/);
      expect(c).toContain('class="timeline"');
    }
    const web = card(cards, webId);
    expect(web).toContain('class="service-card state-healthy"');
    expect(web).toContain("web-frontend");
    expect(web).toContain("100 %");
    expect(web).toContain("timeline-part state-healthy");
    expect(web).toContain(`href="/health/${webId}"`);
    // The page streams its regions and brings its stylesheet.
    expect(html).toContain('hx-sse:connect="/events?view=health"');
    expect(html).toContain("/static/health.css?v=");

    server.stop(true);
    const down = await head.ctx.health.checkNow(webId);
    expect(down?.status).toBe("down");
    const after = card(region((await page("/health")).html, "health-services"), webId);
    expect(after).toContain('class="service-card state-down"');
    expect(after).toContain("connection refused");
    expect(after).toContain("timeline-part state-down");

    const idle = await saveService(head.database.db, SYSTEM, { name: "batch-queue", kind: "tcp", config: { host: "127.0.0.1", port: 9 } });
    await head.ctx.health.reload(idle.id);
    const fresh = card(region((await page("/health")).html, "health-services"), idle.id);
    expect(fresh).toContain('class="service-card state-unknown"');
    expect(fresh).toContain("not checked yet");
  });

  test("the checklist says whether the gate is open, item by item", async () => {
    const checklist = region((await page("/health")).html, "health-preflight");
    expect(checklist).toContain("Not ready");
    expect(checklist).toContain("At least one worker online");
    expect(checklist).toContain("none of 1 workers is online");
    expect(checklist).toMatch(/data-check="workers-online"[^>]*>\s*<mark class="check-state check-fail"/);
    expect(checklist).toContain("web-frontend healthy");
    expect(checklist).toContain("Database migrations current");
    expect(checklist).toContain('class="check-state check-pass"');
  });

  test("a service's page: latest result, 7/30-day uptime, timeline windows linked to their details, incidents, checks, settings", async () => {
    const { status, html } = await page(`/health/${webId}`);
    expect(status).toBe(200);
    const latest = region(html, "service-latest");
    expect(latest).toContain("connection refused");
    expect(latest).toContain("Uptime, 7 days");
    expect(latest).toContain("Uptime, 30 days");
    expect(latest).toMatch(/Down for/);
    const timeline = region(html, "service-timeline");
    expect(timeline).toContain("Timeline, last 7 days");
    for (const d of [1, 7, 30]) expect(timeline).toContain(`href="/health/${webId}?days=${d}#service-timeline"`);
    // Each window of the bar links to its row below: healthy, then down (ongoing).
    const links = [...timeline.matchAll(/<a class="timeline-part state-(\w+) w\d+" href="#(window-\d+)"/g)];
    expect(links.map((m) => m[1])).toEqual(["healthy", "down"]);
    for (const m of links) expect(timeline).toContain(`<tr id="${m[2]}"`);
    expect(timeline).toContain("ongoing");
    expect(timeline).toContain("Incidents (1)");
    const checks = region(html, "service-checks");
    expect(checks).toContain("Recent checks (2)");
    expect(checks.match(/<tr class="check-row/g)).toHaveLength(2);
    expect(html).toContain(`127.0.0.1:${port}/health`);
    expect(html).toContain(`hx-sse:connect="/events?view=${encodeURIComponent(`health:service:${webId}:7`)}"`);
    const day = await page(`/health/${webId}?days=1`);
    expect(day.html).toContain("Timeline, last 24 hours");
    expect(day.html).toContain(encodeURIComponent(`health:service:${webId}:1`));
    const missing = await page("/health/424242");
    expect(missing.status).toBe(404);
    expect(missing.html).toContain("No service has the id");
  });

  test("viewers see no admin forms, and the server refuses the actions anyway", async () => {
    const list = (await page("/health")).html;
    expect(list).not.toContain('action="/health/services"');
    expect(list).not.toContain('action="/health/overrides"');
    const detail = (await page(`/health/${webId}`)).html;
    for (const action of ["check", "diagnose", "restart", "delete"]) expect(detail).not.toContain(`/health/${webId}/${action}`);
    expect(detail).not.toContain("Re-check now");
    expect(detail).not.toContain(`/health/${webId}/edit`);
    for (const [path, form] of [
      ["/health/services", { name: "sneaky", kind: "tcp", "tcp.host": "127.0.0.1", "tcp.port": "22" }],
      ["/health/overrides", { check: "workers-online", reason: "x", duration: "1h" }],
      [`/health/${webId}/check`, {}],
      [`/health/${webId}/diagnose`, {}],
      [`/health/${webId}/restart`, { reason: "x" }],
      [`/health/${webId}/edit`, { name: "renamed" }],
      [`/health/${webId}/delete`, {}],
    ] as const)
      expect((await post(path, form, "viewer")).status).toBe(403);
    expect((await head.request(`/health/${webId}/edit`, { as: "viewer" })).status).toBe(403);
    expect((await head.request(`/health/${webId}/log`, { as: "viewer" })).status).toBe(403);
    expect(head.ctx.health.services().some((s) => s.name === "sneaky")).toBe(false);
    expect(await head.database.db.select().from(preflightOverrides)).toEqual([]);
    // Admins get them.
    const admin = await page("/health", "admin");
    expect(admin.html).toContain('action="/health/services"');
    expect(admin.html).toContain('action="/health/overrides"');
    expect(admin.html).toContain('hx-sse:connect="/events?view=health%3Aadmin"');
  });

  test("the add form: a mistake re-renders it with the message and what was typed; a good one adds the service", async () => {
    const admin = (await page("/health", "admin")).html;
    // Built from the kinds' schemas: the HTTP check's url, method choices and headers.
    expect(admin).toContain('name="http.url" type="url"');
    expect(admin).toContain('<select name="http.method">');
    expect(admin).toContain('name="http.headers"');
    expect(admin).toContain('name="tcp.port" type="number"');
    expect(admin).toContain(`<option value="${head.agent.workerId}"`);

    const missing = await post("/health/services", { name: "inference-api", kind: "http", "http.url": "", intervalSeconds: "15" });
    expect(missing.status).toBe(400);
    const missingHtml = await missing.text();
    expect(missingHtml).toContain("Not added: config: url is required");
    expect(missingHtml).toMatch(/<details class="add-service" id="add-service" open/);
    expect(missingHtml).toContain('name="name" value="inference-api"');
    expect(missingHtml).toContain('name="intervalSeconds" type="number" min="5" max="86400" step="1" value="15"');

    const evil = await post("/health/services", { name: EVIL, kind: "tcp", "tcp.host": "127.0.0.1", "tcp.port": "22" });
    expect(evil.status).toBe(400);
    const evilHtml = await evil.text();
    expect(evilHtml).toContain("Not added: name: 1-80 letters");
    expect(outsideAttributes(evilHtml)).not.toContain("<img");
    // Kept as typed, inside the quoted attribute, where "<" opens nothing.
    expect(evilHtml).toContain(`name="name" value="${EVIL}"`);

    const noWorker = await post("/health/services", { name: "comfy", kind: "worker-http", "worker-http.url": "http://127.0.0.1:8188/" });
    expect(await noWorker.text()).toContain("Not added: workerId: a worker-http check runs on a worker; say which");

    const good = await post("/health/services", {
      name: "inference-api",
      kind: "http",
      "http.url": "http://127.0.0.1:9/health",
      "http.method": "GET",
      "http.headers": "X-Probe: vigil",
      // Another kind's fields are ignored.
      "tcp.host": "elsewhere",
      intervalSeconds: "15",
      timeoutSeconds: "2",
      degradedLatencyMs: "500",
      critical: "on",
      escalationSeconds: "60",
      requiredFiles: "/etc/hostname\n\n/etc/passwd",
      enabled: "on",
    });
    expect(good.status).toBe(303);
    const id = Number(/^\/health\/(\d+)\?added=1$/.exec(good.headers.get("location") ?? "")?.[1]);
    const row = head.ctx.health.service(id)!;
    expect(row).toMatchObject({
      name: "inference-api",
      kind: "http",
      config: { url: "http://127.0.0.1:9/health", method: "GET", headers: { "X-Probe": "vigil" } },
      intervalSeconds: 15,
      timeoutSeconds: 2,
      degradedLatencyMs: 500,
      critical: true,
      escalationSeconds: 60,
      requiredFiles: ["/etc/hostname", "/etc/passwd"],
      logSource: null,
      enabled: true,
      updatedBy: "user:root-admin",
    });
    const added = await page(`/health/${id}?added=1`, "admin");
    expect(added.html).toContain("Added: it is checked at once");
    // Headers may hold a token: the settings show their names only.
    expect(added.html).toContain("X-Probe (values hidden)");
    expect(added.html).not.toContain("vigil</dd>");
  });

  test("an admin re-checks (plain and through htmx) and diagnoses; both are audited", async () => {
    const before = (await head.database.db.select().from(auditLog).where(eq(auditLog.action, "service.check"))).length;
    const plain = await post(`/health/${webId}/check`, {});
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe(`/health/${webId}?checked=1#service-latest`);
    expect((await page(`/health/${webId}?checked=1`, "admin")).html).toContain("Checked: down, GET http://127.0.0.1:");
    const htmx = await post(`/health/${webId}/check`, {}, "admin", { "hx-request": "true" });
    expect(htmx.status).toBe(204);
    expect((await auditOf("service.check")).length).toBe(before + 2);
    expect((await auditOf("service.check")).at(-1)).toEqual(["user:root-admin", "web-frontend"]);

    const diagnosed = await post(`/health/${webId}/diagnose`, {});
    expect(diagnosed.status).toBe(200);
    const html = await diagnosed.text();
    const out = region(html, "service-diagnose");
    expect(out).toContain("connection refused");
    expect(await auditOf("service.diagnose")).toEqual([["user:root-admin", "web-frontend"]]);
    // A page of the service, with its actions, still around the output.
    expect(html).toContain("Re-check now");
  });

  test("restart: refused for a service that is not a unit, and for a worker whose agent is away; the confirmation form is there", async () => {
    const notUnit = await post(`/health/${webId}/restart`, { reason: "stuck" });
    expect(notUnit.status).toBe(400);
    expect(await notUnit.text()).toContain("Not restarted: web-frontend is not a unit on a worker; nothing to restart.");

    const unit = await saveService(head.database.db, SYSTEM, {
      name: "vllm",
      kind: "unit",
      config: { unit: "vllm" },
      workerId: head.agent.workerId,
      logSource: "/var/log/vllm.log",
    });
    await head.ctx.health.reload(unit.id);
    const detail = (await page(`/health/${unit.id}`, "admin")).html;
    expect(detail).toContain(`action="/health/${unit.id}/restart"`);
    expect(detail).toContain("Yes, restart");
    expect(detail).toContain("restart vllm.service");
    const away = await post(`/health/${unit.id}/restart`, { reason: "<b>hung</b>", force: "on" });
    expect(away.status).toBe(409);
    const awayHtml = await away.text();
    expect(awayHtml).toContain("Not restarted:");
    expect(awayHtml).toMatch(/<details class="confirm-dialog" id="restart" open/);
    expect(awayHtml).toContain("&lt;b&gt;hung&lt;/b&gt;</textarea>");

    // The log viewer: opened (audited), then following by itself every 5 s (not audited each time).
    const withLog = (await page(`/health/${unit.id}?log=1`, "admin")).html;
    const panel = region(withLog, "service-log");
    expect(panel).toContain(`hx-get="/health/${unit.id}/log?follow=1"`);
    expect(panel).toContain('hx-trigger="every 5s"');
    expect(panel).toContain("/var/log/vllm.log");
    expect(panel).toContain("Could not read the log");
    expect(await auditOf("service.log")).toEqual([["user:root-admin", "vllm"]]);
    const follow = await head.request(`/health/${unit.id}/log?follow=1`, { as: "admin" });
    expect(follow.status).toBe(200);
    const fragment = await follow.text();
    expect(fragment).toStartWith('<section id="service-log"');
    expect(await auditOf("service.log")).toHaveLength(1);
    // A viewer's ?log=1 shows nothing of it.
    expect((await page(`/health/${unit.id}?log=1`)).html).not.toContain('id="service-log"');
  });

  test("an admin overrides a failing item: shown with who, why and until, and the gate opens; then cancels it", async () => {
    const bad = await post("/health/overrides", { check: "workers-online", reason: " ", duration: "1h" });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain("Not overridden: reason: say why the gate may open anyway");
    expect(badHtml).toMatch(/<details class="override-dialog" id="override-\d+" open/);

    for (const check of ["workers-online", `service:web-frontend`]) {
      const res = await post("/health/overrides", { check, reason: "<b>maintenance</b> night", duration: "4h" });
      expect(res.status).toBe(303);
    }
    const checklist = region((await page("/health", "admin")).html, "health-preflight");
    expect(checklist).toContain("Overridden by user:root-admin until");
    expect(checklist).toContain("&lt;b&gt;maintenance&lt;/b&gt; night");
    expect(outsideAttributes(checklist)).not.toContain("<b>maintenance");
    expect(checklist).toContain('class="check-state check-overridden"');
    expect(checklist).toContain("cancel-override");
    expect(await auditOf("preflight.override")).toContainEqual(["user:root-admin", "workers-online"]);
    // Whatever else fails is optional or passes (the unchecked batch-queue is not critical): ready.
    const ready = await head.request("/api/v1/ready");
    const failing = ready.status === 200 ? [] : ((await ready.json()) as { failing: string[] }).failing;
    expect(checklist.includes("Ready:")).toBe(failing.length === 0);
    expect(failing).not.toContain("workers-online");

    // Viewers see the override but no Cancel.
    expect(region((await page("/health")).html, "health-preflight")).not.toContain("cancel-override");

    const [row] = await head.database.db.select().from(preflightOverrides).where(eq(preflightOverrides.check, "workers-online"));
    const cancelled = await post(`/health/overrides/${row!.id}/cancel`, {}, "admin", { "hx-request": "true" });
    expect(cancelled.status).toBe(204);
    const after = region((await page("/health", "admin")).html, "health-preflight");
    expect(after).toMatch(/data-check="workers-online"[^>]*>\s*<mark class="check-state check-fail"/);
    const again = await post(`/health/overrides/${row!.id}/cancel`, {}, "admin", { "hx-request": "true" });
    expect(again.status).toBe(400);
    expect(again.headers.get("hx-retarget")).toBe("main");
    expect(await again.text()).toContain("Not cancelled: no active override with id");
  });

  test("edit and delete a service through the forms", async () => {
    const form = await page(`/health/${webId}/edit`, "admin");
    expect(form.status).toBe(200);
    expect(form.html).toContain(`action="/health/${webId}/edit"`);
    expect(form.html).toContain(`value="http://127.0.0.1:${port}/health"`);
    const values = {
      name: "web-frontend",
      kind: "tcp",
      "http.url": `http://127.0.0.1:${port}/health`,
      intervalSeconds: "5",
      timeoutSeconds: "3",
      critical: "on",
      enabled: "on",
      escalationSeconds: "300",
    };
    const bad = await post(`/health/${webId}/edit`, { ...values, intervalSeconds: "2" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Not saved: intervalSeconds: from 5 to 86400");
    const saved = await post(`/health/${webId}/edit`, values);
    expect(saved.status).toBe(303);
    // The kind stays the stored one.
    expect(head.ctx.health.service(webId)).toMatchObject({ kind: "http", intervalSeconds: 5, timeoutSeconds: 3 });

    const temp = await saveService(head.database.db, SYSTEM, { name: "scratch", kind: "tcp", config: { host: "127.0.0.1", port: 9 } });
    await head.ctx.health.reload(temp.id);
    const deleted = await post(`/health/${temp.id}/delete`, {});
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("location")).toBe("/health?deleted=1");
    expect(head.ctx.health.service(temp.id)).toBeUndefined();
    expect((await page(`/health/${temp.id}`)).status).toBe(404);
  });

  test("the live view sends the checklist and the cards, then a changed card without a reload", async () => {
    const res = await head.request("/events?view=health", { as: "viewer" });
    expect(res.status).toBe(200);
    const reader = new SseReader(res.body!);
    try {
      const first = await reader.next(10_000);
      const regions = partialsOf(first?.data ?? "");
      expect(regions.has("health-preflight")).toBe(true);
      expect(regions.get("health-services")).toContain('class="service-card state-down"');
      // The HTTP service answers again: its card turns healthy over the stream.
      server = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("ready") });
      expect((await head.ctx.health.checkNow(webId))?.status).toBe("healthy");
      let seen = "";
      const healthy = new RegExp(`id="service-${webId}" class="service-card state-healthy"`);
      for (let i = 0; i < 20 && !healthy.test(seen); i++) seen += (await reader.next(2_000))?.data ?? "";
      expect(seen).toMatch(healthy);
    } finally {
      await reader.cancel();
    }
    const detail = await head.request(`/events?view=${encodeURIComponent(`health:service:${webId}:30`)}`, { as: "viewer" });
    const dr = new SseReader(detail.body!);
    try {
      const regions = partialsOf((await dr.next(10_000))?.data ?? "");
      for (const id of ["service-latest", "service-timeline", "service-checks"]) expect(regions.has(id)).toBe(true);
      expect(regions.get("service-timeline")).toContain("Timeline, last 30 days");
    } finally {
      await dr.cancel();
    }
  }, 30_000);

  test("/status is off by default", async () => {
    const res = await head.request("/status");
    expect(res.status).toBe(404);
  });
});

describe("public status page", () => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead("pglite", { env: { VIGIL_STATUS_PUBLIC: "true" } });
    const db = head.database.db;
    const s = await saveService(db, SYSTEM, { name: "model-store", kind: "filesystem", config: { path: "/nonexistent/models" } });
    await head.ctx.health.reload(s.id);
    for (const svc of head.ctx.health.services()) await head.ctx.health.checkNow(svc.id);
  }, 60_000);
  afterAll(() => head?.close());

  test("anyone sees names and states, and nothing else: no messages, details, hosts or navigation", async () => {
    const res = await head.request("/status");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const name of [...SEEDED, "model-store"]) expect(html).toContain(`<span class="status-name">${name}</span>`);
    expect(html).toMatch(
      /<li class="status-item state-down"><span class="status-name">model-store<\/span><mark class="state state-down">down<\/mark>/,
    );
    expect(html).not.toContain("/nonexistent");
    expect(html).not.toMatch(/\d ms\b/);
    expect(html).not.toContain('href="/health');
    expect(html).not.toContain('href="/alerts"');
    expect(html).not.toContain("Sign out");
    expect(html).not.toContain("hx-sse:connect");
    expect(html).toContain("have a problem");
  });
});
