// The alert configuration pages against a real head: threshold editor (globals, overrides, validation), built-in rules and
// settings, channels through their forms (secrets masked and kept), "send test" to a local webhook, access and escaping.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { getChannel, listThresholds } from "../../src/alerts/store.ts";
import { channels, deliveries, thresholds } from "../../src/db/schema/index.ts";
import { SECRET_MASK } from "../../src/notifiers/registry.ts";
import { makeSample } from "../fixtures/samples.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";

const EVIL = "<img src=x onerror=alert(1)>";
const SECRET = "s3cret-0123456789abcdefghijklmnopqrstuv";

/** The page with every attribute value emptied: what is left must not open a tag from stored text. */
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""');

/** The HTML of one element found by id, up to the end tag given. */
function section(html: string, id: string, end = "</section>"): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf(end, start));
}

/** An input's value by its name inside a piece of HTML (the first such input). */
function valueOf(html: string, name: string): string | undefined {
  const tag = html.match(new RegExp(`<input[^>]*name="${name.replace(".", "\\.")}"[^>]*>`))?.[0];
  return tag?.match(/value="([^"]*)"/)?.[1];
}

/** A plain HTTP server that records what it is sent, standing in for the receiver of a webhook. */
function receiver() {
  const received: { headers: Headers; body: Record<string, unknown> }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      received.push({ headers: req.headers, body: (await req.json()) as Record<string, unknown> });
      return new Response("ok");
    },
  });
  return { received, url: `http://127.0.0.1:${server.port}/hook`, stop: () => server.stop(true) };
}

const RULE_FORM = { direction: "above", forSeconds: "10", hysteresis: "1", enabled: "on" };

describe("alert configuration pages", () => {
  let head: TestHead;
  let workerId: number;
  const gpuUuid = makeSample(1, { gpus: 2 }).gpus[1]!.uuid;
  const get = async (path: string, as: "admin" | "viewer" = "admin") => {
    const res = await head.request(path, { as });
    return { status: res.status, html: await res.text() };
  };
  const post = async (path: string, form: Record<string, string>, as: "admin" | "viewer" = "admin") => {
    const res = await head.request(path, { as, form });
    return { status: res.status, location: res.headers.get("location"), html: await res.text() };
  };

  beforeAll(async () => {
    head = await startTestHead("postgres", { env: { VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8" } });
    workerId = head.agent.workerId;
    // One sample registers the worker's two GPUs, for the per-GPU picker.
    await head.ctx.ingestor.ingest({ id: workerId, name: head.agent.name }, makeSample(1, { gpus: 2 }));
  }, 60_000);
  afterAll(() => head.close());

  test("the editor lists the seeded global rules, says the most specific rule wins, and links the other alert pages", async () => {
    const { status, html } = await get("/alerts/thresholds");
    expect(status).toBe(200);
    for (const [metric, warning, critical] of [
      ["temperature", "70", "85"],
      ["memoryPercent", "85", "95"],
      ["utilization", "95", "99"],
    ] as const) {
      const group = section(html, `metric-${metric}`);
      expect(group).toContain("All workers (global)");
      expect(valueOf(group, "warning")).toBe(warning);
      expect(valueOf(group, "critical")).toBe(critical);
      expect(group).toContain("system");
    }
    expect(html).toContain("The most specific rule wins:");
    for (const href of ["/alerts", "/alerts/thresholds", "/alerts/channels"]) expect(html).toContain(`href="${href}"`);
    expect(html).toContain('href="/alerts/thresholds" aria-current="page"');
    // The add form offers every metric with its unit, and the worker's GPUs.
    expect(html).toContain(">GPU temperature (°C)</option>");
    expect(html).toContain(`value="${workerId}:${gpuUuid}"`);
    // Built-in rules with their help, and the settings with what each does.
    for (const kind of ["offline", "gpu_lost", "throttle", "ecc", "idle_allocation"])
      expect(html).toContain(`action="/alerts/builtins/${kind}"`);
    expect(html).toContain("a GPU fell off the bus");
    expect(html).toContain('name="cooldownSeconds"');
    expect(html).toContain("next channel tier");
    // CSP: no inline script or style.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
    expect(html).not.toMatch(/\sstyle="/i);
    expect(html).toMatch(/<link rel="stylesheet" href="\/static\/alerts\.css\?v=[0-9a-f]{12}"/);
  });

  test("viewers may not see or change the alert configuration", async () => {
    for (const path of ["/alerts/thresholds", "/alerts/channels"]) expect((await get(path, "viewer")).status).toBe(403);
    const res = await post("/alerts/thresholds", { metric: "temperature", warning: "1", critical: "2", ...RULE_FORM }, "viewer");
    expect(res.status).toBe(403);
    expect((await post("/alerts/channels", { name: "x", kind: "dashboard" }, "viewer")).status).toBe(403);
    expect((await head.database.db.select().from(thresholds)).length).toBe(3);
  });

  test("a per-worker override saved through the form is stored, used by the engine at once, and listed under its metric", async () => {
    const res = await post("/alerts/thresholds", {
      metric: "temperature",
      workerId: String(workerId),
      gpu: "",
      warning: "60",
      critical: "75",
      ...RULE_FORM,
    });
    expect(res.status).toBe(303);
    expect(res.location).toMatch(/^\/alerts\/thresholds\?done=saved#rule-\d+$/);
    const row = (await listThresholds(head.database.db)).find((r) => r.scope === `worker:${workerId}`);
    expect(row).toMatchObject({ metric: "temperature", warning: 60, critical: 75, forSeconds: 10, hysteresis: 1, enabled: true });
    expect(row!.updatedBy).toBe("user:root-admin");
    expect(head.ctx.alerts.rules.resolve("temperature", workerId, null)).toMatchObject({ warning: 60, critical: 75 });

    // A browser keeps the fragment to itself.
    const { html } = await get(res.location!.split("#")[0]!);
    expect(html).toContain("Rule saved");
    const group = section(html, "metric-temperature");
    expect(group).toContain(`>${head.agent.name}</a>`);
    expect(section(group, `rule-${row!.id}`, "</tr>")).toContain('value="60"');
  });

  test("a per-GPU override names the GPU's worker through the GPU picker", async () => {
    const res = await post("/alerts/thresholds", {
      metric: "memoryPercent",
      workerId: "",
      gpu: `${workerId}:${gpuUuid}`,
      warning: "50",
      critical: "",
      ...RULE_FORM,
    });
    expect(res.status).toBe(303);
    const row = (await listThresholds(head.database.db)).find((r) => r.gpuUuid === gpuUuid);
    expect(row).toMatchObject({ metric: "memoryPercent", workerId, warning: 50, critical: null });
    expect(head.ctx.alerts.rules.resolve("memoryPercent", workerId, gpuUuid)?.warning).toBe(50);
    expect(head.ctx.alerts.rules.resolve("memoryPercent", workerId, "GPU-other")?.warning).toBe(85);
    expect(section((await get("/alerts/thresholds")).html, `rule-${row!.id}`, "</tr>")).toContain(">GPU 1</span>");
  });

  test("editing a rule in place changes its levels and keeps its scope; deleting removes it", async () => {
    const global = (await listThresholds(head.database.db)).find((r) => r.metric === "utilization" && r.scope === "global")!;
    const res = await post("/alerts/thresholds", { id: String(global.id), warning: "90", critical: "98", ...RULE_FORM, enabled: "" });
    expect(res.status).toBe(303);
    const after = (await listThresholds(head.database.db)).find((r) => r.id === global.id)!;
    expect(after).toMatchObject({ scope: "global", warning: 90, critical: 98, enabled: false });

    const extra = await post("/alerts/thresholds", { metric: "fanSpeed", warning: "90", critical: "", ...RULE_FORM });
    expect(extra.status).toBe(303);
    const fan = (await listThresholds(head.database.db)).find((r) => r.metric === "fanSpeed")!;
    expect((await post(`/alerts/thresholds/${fan.id}/delete`, {})).status).toBe(303);
    expect((await listThresholds(head.database.db)).some((r) => r.metric === "fanSpeed")).toBe(false);
    expect(head.ctx.alerts.rules.resolve("fanSpeed", workerId, null)).toBeUndefined();
    expect((await post(`/alerts/thresholds/${fan.id}/delete`, {})).status).toBe(404);
  });

  test("warning above critical is refused with the reason and the values as typed, status 400", async () => {
    const res = await post("/alerts/thresholds", {
      metric: "powerUsage",
      workerId: "",
      gpu: "",
      warning: "400",
      critical: "350",
      ...RULE_FORM,
    });
    expect(res.status).toBe(400);
    expect(res.html).toContain("warning (400) must not be above critical (350)");
    const form = section(res.html, "threshold-new", "</form>");
    expect(valueOf(form, "warning")).toBe("400");
    expect(valueOf(form, "critical")).toBe("350");
    expect(form).toMatch(/<option value="powerUsage" selected>/);
    expect((await listThresholds(head.database.db)).some((r) => r.metric === "powerUsage")).toBe(false);

    // The same mistake in a row's own form shows back in that row.
    const temp = (await listThresholds(head.database.db)).find((r) => r.metric === "temperature" && r.scope === "global")!;
    const edit = await post("/alerts/thresholds", { id: String(temp.id), warning: "99", critical: "80", ...RULE_FORM });
    expect(edit.status).toBe(400);
    expect(valueOf(section(edit.html, `rule-${temp.id}`, "</tr>"), "warning")).toBe("99");
    expect((await listThresholds(head.database.db)).find((r) => r.id === temp.id)!.warning).toBe(70);
  });

  test("built-in rules and settings are saved through their forms and reach the engine", async () => {
    const res = await post("/alerts/builtins/throttle", {
      enabled: "on",
      severity: "critical",
      forSeconds: "60",
      "param.includePowerCap": "1",
    });
    expect(res.status).toBe(303);
    expect(head.ctx.alerts.rules.builtin("throttle")).toMatchObject({
      severity: "critical",
      forSeconds: 60,
      params: { includePowerCap: 1 },
    });
    const off = await post("/alerts/builtins/idle_allocation", { severity: "warning", forSeconds: "1800", "param.memoryPercent": "10" });
    expect(off.status).toBe(303);
    expect(head.ctx.alerts.rules.builtin("idle_allocation").enabled).toBe(false);
    expect((await post("/alerts/builtins/throttle", { severity: "fatal", forSeconds: "1" })).status).toBe(400);

    const settings = await post("/alerts/settings", { cooldownSeconds: "600", repeatSeconds: "3600", escalationMinutes: "15" });
    expect(settings.status).toBe(303);
    expect(head.ctx.alerts.rules.settings).toEqual({ cooldownSeconds: 600, repeatSeconds: 3600, escalationMinutes: 15 });
    const bad = await post("/alerts/settings", { cooldownSeconds: "-5", repeatSeconds: "0", escalationMinutes: "0" });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("cooldownSeconds: must be at least 0");
    expect(valueOf(bad.html, "cooldownSeconds")).toBe("-5");
  });

  describe("channels", () => {
    const hook = receiver();
    let id: number;
    afterAll(() => hook.stop());

    test("a webhook channel added through the form never shows its secrets back", async () => {
      const res = await post("/alerts/channels", {
        name: "ops-hook",
        kind: "webhook",
        enabled: "on",
        minSeverity: "warning",
        tier: "1",
        "webhook.url": hook.url,
        "webhook.secret": SECRET,
        "webhook.headers": "X-Token: tok-123",
        // Another kind's fieldset, filled in and ignored.
        "slack.url": "https://hooks.slack.com/services/x",
      });
      expect(res.status).toBe(303);
      expect(res.location).toBe("/alerts/channels?done=added");
      const row = (await head.database.db.select().from(channels).where(eq(channels.name, "ops-hook")))[0]!;
      id = row.id;
      expect(row.config).toEqual({ url: hook.url, secret: SECRET, headers: { "X-Token": "tok-123" } });

      const list = (await get("/alerts/channels")).html;
      expect(section(list, `channel-${id}`, "</tr>")).toContain("Generic webhook");
      expect(list).toContain('href="/alerts/channels" aria-current="page"');
      const detail = (await get(`/alerts/channels/${id}`)).html;
      for (const html of [list, detail]) {
        expect(html).not.toContain(SECRET);
        expect(html).not.toContain("tok-123");
      }
      expect(valueOf(detail, "webhook.secret")).toBe(SECRET_MASK);
      expect(detail).toContain(`X-Token: ${SECRET_MASK}</textarea>`);
      expect(valueOf(detail, "webhook.url")).toBe(hook.url);
    });

    test("editing the channel without retyping its secrets keeps them", async () => {
      const res = await post(`/alerts/channels/${id}`, {
        name: "ops-hook",
        enabled: "on",
        minSeverity: "critical",
        tier: "2",
        "webhook.url": hook.url,
        "webhook.secret": SECRET_MASK,
        "webhook.headers": `X-Token: ${SECRET_MASK}`,
      });
      expect(res.status).toBe(303);
      const row = await getChannel(head.database.db, id);
      expect(row).toMatchObject({
        tier: 2,
        minSeverity: "critical",
        config: { url: hook.url, secret: SECRET, headers: { "X-Token": "tok-123" } },
      });

      const bad = await post(`/alerts/channels/${id}`, {
        name: "ops-hook",
        minSeverity: "warning",
        tier: "1",
        "webhook.url": "ftp://nope",
      });
      expect(bad.status).toBe(400);
      expect(bad.html).toContain("url must match ^https?://");
      expect(valueOf(bad.html, "webhook.url")).toBe("ftp://nope");
      expect((await getChannel(head.database.db, id)).config.url).toBe(hook.url);
    });

    test('"send test" posts a test notification to the webhook and says it was delivered', async () => {
      const res = await post(`/alerts/channels/${id}/test`, { back: "detail" });
      expect(res.status).toBe(200);
      expect(res.html).toContain("Test notification delivered to ops-hook.");
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]!.body.event).toBe("test");
      expect(hook.received[0]!.headers.get("x-token")).toBe("tok-123");
      expect(hook.received[0]!.headers.get("x-vigil-signature")).toMatch(/^sha256=/);
      // From the list, the answer is the list.
      const fromList = await post(`/alerts/channels/${id}/test`, { back: "list" });
      expect(fromList.html).toContain("<h1>Notification channels</h1>");
      expect(hook.received).toHaveLength(2);
    });

    test('"send test" to a closed port shows the error', async () => {
      const gone = receiver();
      gone.stop();
      const add = await post("/alerts/channels", {
        name: "dead-hook",
        kind: "webhook",
        enabled: "on",
        minSeverity: "warning",
        tier: "1",
        "webhook.url": gone.url,
      });
      expect(add.status).toBe(303);
      const dead = (await head.database.db.select().from(channels).where(eq(channels.name, "dead-hook")))[0]!;
      const res = await post(`/alerts/channels/${dead.id}/test`, { back: "detail" });
      expect(res.status).toBe(502);
      expect(res.html).toContain("Test notification to dead-hook failed: ");
      expect(res.html).toContain("ECONNREFUSED");
      expect(res.html).not.toContain("delivered to");
      expect((await post(`/alerts/channels/${dead.id}/delete`, {})).status).toBe(303);
      expect((await get(`/alerts/channels/${dead.id}`)).status).toBe(404);
    });

    test("a rejected new channel shows the reason and what was typed, but not its secrets", async () => {
      const res = await post("/alerts/channels", {
        name: "second",
        kind: "webhook",
        enabled: "on",
        minSeverity: "warning",
        tier: "1",
        "webhook.url": "",
        "webhook.secret": "typed-secret-value",
      });
      expect(res.status).toBe(400);
      expect(res.html).toContain("Channel not added: config: url is required.");
      expect(res.html).toContain("type them again");
      expect(res.html).not.toContain("typed-secret-value");
      expect(valueOf(res.html, "name")).toBe("second");
    });

    test("stored names, errors and authors are escaped; a channel named like a tag is refused", async () => {
      const res = await post("/alerts/channels", { name: EVIL, kind: "dashboard", enabled: "on", minSeverity: "warning", tier: "1" });
      expect(res.status).toBe(400);
      expect(res.html).toContain("name: 1-63 letters");
      expect(outsideAttributes(res.html)).not.toContain("<img");

      // Rows written past the validation (an older version, the database by hand) still render inert.
      const db = head.database.db;
      const [evil] = await db.insert(channels).values({ name: EVIL, kind: "dashboard", config: {}, updatedBy: EVIL }).returning();
      await db.insert(deliveries).values({
        channelId: evil!.id,
        status: "failed",
        attempts: 3,
        nextAttemptAt: new Date(),
        lastError: `HTTP 500: ${EVIL}`,
        payload: { event: "firing", title: EVIL },
        createdAt: new Date(),
      });
      await db.update(thresholds).set({ updatedBy: EVIL }).where(eq(thresholds.metric, "temperature"));
      for (const path of ["/alerts/channels", `/alerts/channels/${evil!.id}`, "/alerts/thresholds"]) {
        const { status, html } = await get(path);
        expect(status).toBe(200);
        expect(outsideAttributes(html)).not.toContain("<img");
        expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
      }
      expect((await get(`/alerts/channels/${evil!.id}`)).html).toContain("failed after 3 attempts");
    });
  });
});
