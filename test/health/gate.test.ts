// The readiness gate and pre-flight through the real app: 200/503 with the failing names, overrides with who, why and expiry, windows recorded by the loop.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { auditLog, uptimeWindows } from "../../src/db/schema/index.ts";
import { preflight, type PreflightInputs } from "../../src/health/preflight.ts";
import { JOURNAL } from "../../migrations/index.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { makeSample } from "../fixtures/samples.ts";

let head: TestHead;
let up = true;
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (up ? new Response("ok") : new Response("no", { status: 503 })) });
beforeAll(async () => {
  head = await startTestHead("postgres", { env: { VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8" } });
}, 60_000);
afterAll(async () => {
  await head.close();
  server.stop(true);
});

const ready = async () => {
  const r = await head.request("/api/v1/ready");
  return { status: r.status, body: await r.json() };
};
const checkAll = async () => {
  for (const s of head.ctx.health.services()) await head.ctx.health.checkNow(s.id);
};

describe("the readiness gate", () => {
  test("closed with the failing names until a worker is online and the critical services are healthy; open to anyone", async () => {
    const first = await ready();
    expect(first.status).toBe(503);
    expect(first.body.failing).toContain("workers-online");
    // Names only: no messages, hosts or details for the anonymous caller.
    expect(Object.keys(first.body).sort()).toEqual(["failing", "ready"]);
    const w = head.agent.workerId;
    await head.ctx.ingestor.ingest({ id: w, name: head.agent.name }, makeSample(1, { ts: new Date(Date.now() - 100) }));
    await checkAll();
    expect(await ready()).toEqual({ status: 200, body: { ready: true } });
  });

  test("a critical service going down closes it; the loop records the status windows", async () => {
    const r = await head.request("/api/v1/services", {
      method: "POST",
      as: "admin-token",
      json: { name: "model-server", kind: "http", config: { url: `http://127.0.0.1:${server.port}/` }, critical: true },
    });
    expect(r.status).toBe(201);
    const id = ((await r.json()) as { service: { id: number } }).service.id;
    await head.ctx.health.checkNow(id);
    expect((await ready()).status).toBe(200);
    up = false;
    await head.ctx.health.checkNow(id);
    expect(await ready()).toEqual({ status: 503, body: { ready: false, failing: ["service:model-server"] } });
    const windows = await head.database.db.select().from(uptimeWindows).where(eq(uptimeWindows.serviceId, id)).orderBy(uptimeWindows.id);
    expect(windows.map((w) => [w.status, w.endedAt === null])).toEqual([
      ["healthy", false],
      ["down", true],
    ]);
    // The same check again: the open window goes on, no new one.
    await head.ctx.health.checkNow(id);
    expect(await head.database.db.select().from(uptimeWindows).where(eq(uptimeWindows.serviceId, id))).toHaveLength(2);
  });

  test("an admin override opens it, says who and why on the checklist, is audited, and can be cancelled", async () => {
    const viewer = await head.request("/api/v1/preflight/overrides", {
      method: "POST",
      as: "viewer-token",
      json: { check: "service:model-server", reason: "x" },
    });
    expect(viewer.status).toBe(403);
    const bad = await head.request("/api/v1/preflight/overrides", {
      method: "POST",
      as: "admin-token",
      json: { check: "service:model-server" },
    });
    expect(((await bad.json()) as { error: string }).error).toContain("reason");
    const o = await head.request("/api/v1/preflight/overrides", {
      method: "POST",
      as: "admin-token",
      json: { check: "service:model-server", reason: "known outage, jobs rerouted", durationMinutes: 30 },
    });
    expect(o.status).toBe(201);
    const { override } = (await o.json()) as { override: { id: number; expiresAt: string } };
    expect(Date.parse(override.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await ready()).toEqual({ status: 200, body: { ready: true } });
    const list = (await (await head.request("/api/v1/preflight", { as: "viewer-token" })).json()) as {
      items: { name: string; override?: unknown }[];
    };
    expect(list.items.find((i) => i.name === "service:model-server")!.override).toMatchObject({
      by: "token:admin-script",
      reason: "known outage, jobs rerouted",
    });
    const audited = await head.database.db.select().from(auditLog).where(eq(auditLog.action, "preflight.override"));
    expect(audited.at(-1)!.target).toBe("service:model-server");
    expect((await head.request(`/api/v1/preflight/overrides/${override.id}`, { method: "DELETE", as: "admin-token" })).status).toBe(200);
    expect((await ready()).status).toBe(503);
  });
});

describe("overrides expire", () => {
  const inputs = (now: number, expiresAt: number): PreflightInputs => ({
    migrationsApplied: JOURNAL.entries.length,
    workers: [],
    services: [],
    latest: () => undefined,
    enabledChannels: 0,
    overrides: [{ check: "workers-online", createdBy: "user:alice", reason: "night", expiresAt: new Date(expiresAt) }],
    now,
  });

  test("in force until its expiry, not a moment after", () => {
    expect(preflight(inputs(1_000, 2_000)).ready).toBe(true);
    expect(preflight(inputs(2_000, 2_000))).toMatchObject({ ready: false, failing: ["workers-online"] });
    // An override of an item that passes anyway is not shown as one.
    expect(preflight(inputs(1_000, 2_000)).items.find((i) => i.name === "channels")!.override).toBeUndefined();
  });
});

describe("a service's channels", () => {
  test("named by id through the API or by name through the form's list; an unknown one is refused", async () => {
    const ch = await head.request("/api/v1/channels", {
      method: "POST",
      as: "admin-token",
      json: { name: "on-call", kind: "dashboard", config: {} },
    });
    const id = ((await ch.json()) as { channel: { id: number } }).channel.id;
    const byId = await head.request("/api/v1/services", {
      method: "POST",
      as: "admin-token",
      json: { name: "by-id", kind: "tcp", config: { host: "127.0.0.1", port: 9 }, channelIds: [id] },
    });
    expect(((await byId.json()) as { service: { channelIds: number[] } }).service.channelIds).toEqual([id]);
    const byName = await head.request("/api/v1/services", {
      method: "POST",
      as: "admin-token",
      json: { name: "by-name", kind: "tcp", config: { host: "127.0.0.1", port: 9 }, channels: "on-call" },
    });
    expect(((await byName.json()) as { service: { channelIds: number[] } }).service.channelIds).toEqual([id]);
    const bad = await head.request("/api/v1/services", {
      method: "POST",
      as: "admin-token",
      json: { name: "bad", kind: "tcp", config: { host: "127.0.0.1", port: 9 }, channels: "nope" },
    });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([
      400,
      "channels: no channel named nope (see /alerts/channels)",
    ]);
  });
});
