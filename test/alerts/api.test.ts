// /api/v1 alerts, silences, thresholds and channels through the real app: validation messages, masking, roles, audit, and the engine following changes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { auditLog, channels } from "../../src/db/schema/index.ts";
import { SECRET_MASK } from "../../src/notifiers/registry.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { makeSample } from "../fixtures/samples.ts";

let head: TestHead;
const hook: { bodies: unknown[] } = { bodies: [] };
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    hook.bodies.push(await req.json());
    return new Response("ok");
  },
});
beforeAll(async () => {
  head = await startTestHead("postgres", { env: { VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8" } });
}, 60_000);
afterAll(async () => {
  await head.close();
  server.stop(true);
});

const call = async (method: string, path: string, json?: unknown, as: "admin-token" | "viewer-token" = "admin-token") => {
  const r = await head.request(path, { method, json, as });
  return { status: r.status, body: (await r.json()) as any };
};

describe("thresholds", () => {
  test("lists the seeded global rules, the metrics a rule may watch, the built-in rules and settings", async () => {
    const { status, body } = await call("GET", "/api/v1/thresholds", undefined, "viewer-token");
    expect(status).toBe(200);
    const seeded = body.thresholds.map((t: any) => [t.metric, t.scope, t.warning, t.critical]);
    expect(seeded).toEqual([
      ["memoryPercent", "global", 85, 95],
      ["temperature", "global", 70, 85],
      ["utilization", "global", 95, 99],
    ]);
    expect(body.metrics.map((m: any) => m.name)).toContain("host.diskPercent");
    expect(body.builtins.map((b: any) => b.kind)).toEqual(["offline", "gpu_lost", "throttle", "ecc", "idle_allocation"]);
    expect(body.settings).toEqual({ cooldownSeconds: 300, repeatSeconds: 0, escalationMinutes: 30 });
  });

  test("a per-worker override is created, replaced on the same scope, and read by the engine at once", async () => {
    const w = head.agent.workerId;
    const a = await call("POST", "/api/v1/thresholds", { metric: "temperature", workerId: w, warning: 60, critical: 65 });
    expect(a.status).toBe(200);
    expect(a.body.threshold.scope).toBe(`worker:${w}`);
    const b = await call("POST", "/api/v1/thresholds", { metric: "temperature", workerId: w, warning: 61, critical: 66, forSeconds: 0 });
    expect(b.body.threshold.id).toBe(a.body.threshold.id);
    expect(head.ctx.alerts.rules.resolve("temperature", w, "GPU-x")?.critical).toBe(66);
    const audit = await head.database.db.select().from(auditLog).where(eq(auditLog.action, "threshold.save"));
    expect(audit.at(-1)!.target).toBe(`temperature@worker:${w}`);
  });

  test("bad input gets a message that says what to fix", async () => {
    const cases: [unknown, string][] = [
      [{ metric: "temperature", warning: 90, critical: 85 }, "warning (90) must not be above critical (85) for a rule that fires above"],
      [
        { metric: "temperature", direction: "below", warning: 5, critical: 10 },
        "warning (5) must not be below critical (10) for a rule that fires below",
      ],
      [{ metric: "nope", warning: 1 }, 'metric: unknown metric "nope"'],
      [{ metric: "temperature" }, "give a warning level, a critical level, or both"],
      [{ metric: "temperature", warning: "hot" }, "warning: expected a number"],
      [{ metric: "temperature", critical: 85, forSeconds: -1 }, "forSeconds: must be at least 0"],
      [{ metric: "host.cpuPercent", workerId: 1, gpuUuid: "GPU-1", critical: 99 }, "is a host metric"],
      [{ metric: "temperature", workerId: 999, critical: 85 }, "no worker with id 999"],
      ["[]", "expected a JSON object"],
    ];
    for (const [json, message] of cases) {
      const r = await call("POST", "/api/v1/thresholds", json);
      expect([r.status, r.body.error]).toEqual([r.status, expect.stringContaining(message)]);
      expect([400, 404]).toContain(r.status);
    }
  });

  test("viewers read, only admins change; a deleted rule falls back to the global one", async () => {
    expect((await call("POST", "/api/v1/thresholds", { metric: "temperature", critical: 90 }, "viewer-token")).status).toBe(403);
    const list = (await call("GET", "/api/v1/thresholds")).body.thresholds as any[];
    const override = list.find((t) => t.scope.startsWith("worker:"));
    expect((await call("DELETE", `/api/v1/thresholds/${override.id}`)).status).toBe(200);
    expect(head.ctx.alerts.rules.resolve("temperature", head.agent.workerId, null)?.critical).toBe(85);
    expect((await call("DELETE", `/api/v1/thresholds/${override.id}`)).status).toBe(404);
  });

  test("built-in rules and settings are changed with checks", async () => {
    const ok = await call("PUT", "/api/v1/thresholds/builtins/idle_allocation", { forSeconds: 600, params: { memoryPercent: 20 } });
    expect(ok.body.builtin).toMatchObject({ kind: "idle_allocation", forSeconds: 600, params: { memoryPercent: 20, utilization: 0 } });
    expect(head.ctx.alerts.rules.builtin("idle_allocation").params.memoryPercent).toBe(20);
    expect((await call("PUT", "/api/v1/thresholds/builtins/fan", {})).status).toBe(404);
    expect((await call("PUT", "/api/v1/thresholds/builtins/ecc", { params: { bogus: 1 } })).body.error).toContain(
      "ecc has no such parameter",
    );
    const s = await call("PUT", "/api/v1/alerts/settings", { repeatSeconds: 3600 });
    expect(s.body.settings).toEqual({ cooldownSeconds: 300, repeatSeconds: 3600, escalationMinutes: 30 });
    expect(head.ctx.alerts.rules.settings.repeatSeconds).toBe(3600);
    expect((await call("PUT", "/api/v1/alerts/settings", { cooldown: 1 })).body.error).toContain("no such setting");
  });
});

describe("channels", () => {
  let id = 0;
  test("created with its config checked; secrets never come back unmasked", async () => {
    const bad = await call("POST", "/api/v1/channels", { name: "hook", kind: "webhook", config: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("url");
    expect((await call("POST", "/api/v1/channels", { name: "x", kind: "pager-duty", config: {} })).body.error).toContain(
      "kind: expected one of",
    );
    const r = await call("POST", "/api/v1/channels", {
      name: "ops hook",
      kind: "webhook",
      config: { url: `http://127.0.0.1:${server.port}/in`, secret: "top-secret" },
    });
    expect(r.status).toBe(201);
    id = r.body.channel.id;
    expect(r.body.channel.config.secret).toBe(SECRET_MASK);
    expect(JSON.stringify((await call("GET", "/api/v1/channels")).body)).not.toContain("top-secret");
    expect((await call("GET", "/api/v1/channels", undefined, "viewer-token")).status).toBe(403);
    expect((await call("POST", "/api/v1/channels", { name: "ops hook", kind: "dashboard", config: {} })).body.error).toContain("exists");
  });

  test("an edit that sends the mask back keeps the stored secret", async () => {
    const r = await call("PUT", `/api/v1/channels/${id}`, {
      name: "ops hook",
      kind: "webhook",
      tier: 2,
      config: { url: `http://127.0.0.1:${server.port}/in`, secret: SECRET_MASK },
    });
    expect(r.status).toBe(200);
    const [row] = await head.database.db.select().from(channels).where(eq(channels.id, id));
    expect(row!.config.secret).toBe("top-secret");
    expect(row!.tier).toBe(2);
  });

  test("send test posts a test notification; a refusing channel answers 502 with the reason", async () => {
    const r = await call("POST", `/api/v1/channels/${id}/test`);
    expect(r).toEqual({ status: 200, body: { delivered: true } });
    expect((hook.bodies.at(-1) as any).event).toBe("test");
    const dead = await call("POST", "/api/v1/channels", {
      name: "dead",
      kind: "webhook",
      config: { url: "http://169.254.169.254/latest" },
    });
    const fail = await call("POST", `/api/v1/channels/${dead.body.channel.id}/test`);
    expect(fail.status).toBe(502);
    expect(fail.body.error).toContain("169.254.169.254");
  });
});

describe("alerts, acknowledgement and silences", () => {
  test("a hot GPU's alert is listed with its live value; acknowledging it is recorded; its detail shows the transitions", async () => {
    const w = head.agent.workerId;
    await call("POST", "/api/v1/thresholds", { metric: "temperature", workerId: w, critical: 80, forSeconds: 0 });
    const sample = makeSample(1, { ts: new Date(Date.now() - 100) });
    sample.gpus = sample.gpus.map((g) => ({ ...g, temperature: 88 }));
    await head.ctx.ingestor.ingest({ id: w, name: head.agent.name }, sample);
    await head.ctx.alerts.idle();
    const list = await call("GET", `/api/v1/alerts?state=firing&worker=${w}`, undefined, "viewer-token");
    expect(list.body.alerts.map((a: any) => [a.rule, a.severity, a.value, a.gpu.index])).toEqual([
      ["threshold:temperature", "critical", 88, 1],
      ["threshold:temperature", "critical", 88, 0],
    ]);
    const id = list.body.alerts[0].id;
    expect((await call("POST", `/api/v1/alerts/${id}/ack`, undefined, "viewer-token")).status).toBe(403);
    expect((await call("POST", `/api/v1/alerts/${id}/ack`)).body).toEqual({ acknowledged: true });
    const detail = await call("GET", `/api/v1/alerts/${id}`, undefined, "viewer-token");
    expect(detail.body.alert.acknowledged.by).toBe("token:admin-script");
    expect(detail.body.events.map((e: any) => e.kind)).toEqual(["firing", "acknowledged"]);
    expect((await call("POST", "/api/v1/alerts/999999/ack")).status).toBe(404);
    expect((await call("GET", "/api/v1/alerts?state=bogus")).status).toBe(400);
  });

  test("silences and maintenance windows: created with checks, listed, cancelled, and applied by the engine", async () => {
    const w = head.agent.workerId;
    expect((await call("POST", "/api/v1/silences", { workerId: w })).body.error).toContain("say when it ends");
    expect((await call("POST", "/api/v1/silences", { kind: "maintenance", durationMinutes: 60 })).body.error).toContain("for one worker");
    expect((await call("POST", "/api/v1/silences", { rule: "rm -rf", durationMinutes: 5 })).body.error).toContain("rule: expected");
    const s = await call("POST", "/api/v1/silences", {
      workerId: w,
      rule: "threshold:temperature",
      durationMinutes: 120,
      reason: "burn-in",
    });
    expect(s.status).toBe(201);
    const open = head.ctx.alerts.list().find((a) => a.workerId === w)!;
    expect(head.ctx.alerts.suppressedBy(open, Date.now())).toBe("silenced");
    expect((await call("GET", "/api/v1/silences", undefined, "viewer-token")).body.silences.map((x: any) => x.reason)).toEqual(["burn-in"]);
    expect((await call("DELETE", `/api/v1/silences/${s.body.silence.id}`)).body).toEqual({ cancelled: true });
    expect(head.ctx.alerts.suppressedBy(open, Date.now())).toBeNull();
    expect((await call("DELETE", `/api/v1/silences/${s.body.silence.id}`)).status).toBe(404);
  });
});
