import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../app.ts";
import type { Database } from "../db/client.ts";
import { upsertWorker } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { Ingestor } from "../ingest/ingest.ts";
import { LatestCache } from "../ingest/latest.ts";
import { BatchedWriter } from "../ingest/writer.ts";
import { log } from "../log.ts";
import { parseCommandConfig } from "../config.ts";
import { freshDatabase } from "../../test/harness/engines.ts";
import { makeSample } from "../../test/fixtures/samples.ts";
import { STATIC_ASSETS } from "../../static/index.ts";

let database: Database;
let ctx: HeadContext;
let app: ReturnType<typeof createApp>;
const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://vigil.test${path}`, { headers }));

beforeAll(async () => {
  database = await freshDatabase("pglite");
  const writer = new BatchedWriter(database.db, { log, flushIntervalMs: 10 });
  const latest = new LatestCache();
  const ingestor = new Ingestor(database.db, writer, latest);
  const config = parseCommandConfig("serve", ["listen", "dataDir", "localAgent"], [], {}).config;
  ctx = { config, database, writer, latest, ingestor, startedAt: new Date() };
  app = createApp(ctx);
  const id = await upsertWorker(database.db, { name: "gpu-01", kind: "remote" });
  await ingestor.ingest({ id, name: "gpu-01" }, makeSample(1, { ts: new Date(Date.now() - 500) }));
});
afterAll(async () => {
  await ctx.writer.close();
  await database.close();
});

describe("routes", () => {
  test("GET /healthz reports version and engine", async () => {
    const r = await get("/healthz");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ok", database: { engine: "pglite", ok: true } });
  });

  test("GET /api/v1/workers and /api/v1/metrics/current answer JSON", async () => {
    const workers = await (await get("/api/v1/workers")).json();
    expect(workers.workers).toEqual([expect.objectContaining({ name: "gpu-01", status: "online", gpuCount: 2 })]);
    const cur = await (await get("/api/v1/metrics/current")).json();
    expect(cur.workers[0].sample.gpus).toHaveLength(2);
    expect(cur.workers[0].sample.gpus[0].name).toBe("NVIDIA H100 80GB HBM3");
  });

  test("GET / renders the fleet page with Pico", async () => {
    const r = await get("/");
    expect(r.headers.get("content-type")).toStartWith("text/html");
    const html = await r.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('href="/static/pico.min.css"');
    expect(html).toContain("gpu-01");
  });

  test("names from agents are escaped in HTML", async () => {
    await upsertWorker(database.db, { name: '<script>alert("x")</script>', kind: "remote" });
    const html = await (await get("/")).text();
    expect(html).not.toContain('<script>alert("x")</script>');
    expect(html).toContain("&lt;script&gt;");
  });

  test("every static asset is served with its type, and unknown ones are 404", async () => {
    for (const [name, asset] of Object.entries(STATIC_ASSETS)) {
      const r = await get(`/static/${name}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(asset.type);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100);
      const again = await get(`/static/${name}`, { "if-none-match": r.headers.get("etag")! });
      expect(again.status).toBe(304);
    }
    expect((await get("/static/nope.js")).status).toBe(404);
    expect((await get("/static/..%2Fpackage.json")).status).toBe(404);
  });

  test("unknown paths are a JSON 404", async () => {
    const r = await get("/api/v1/nothing-here");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "not found", path: "/api/v1/nothing-here" });
  });

  test("/healthz says 503 when the database is gone", async () => {
    const other = await freshDatabase("pglite");
    const app2 = createApp({ ...ctx, database: other });
    await other.close();
    const r = await app2.handle(new Request("http://vigil.test/healthz"));
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: "unavailable", database: { ok: false } });
  });
});
