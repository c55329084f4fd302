import { afterAll, beforeAll, expect, test } from "bun:test";
import { upsertWorker } from "../fleet/workers.ts";
import { createApp } from "../app.ts";
import { describeEachEngine, freshDatabase } from "../../test/harness/engines.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import { makeSample } from "../../test/fixtures/samples.ts";
import { assetUrl, STATIC_ASSETS } from "../../static/index.ts";

describeEachEngine("routes", (engine) => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead(engine);
    const id = await upsertWorker(head.database.db, { name: "gpu-01", kind: "remote" });
    await head.ctx.ingestor.ingest({ id, name: "gpu-01" }, makeSample(1, { ts: new Date(Date.now() - 500) }));
  }, 60_000);
  afterAll(() => head.close());

  test("GET /healthz reports version and engine, to anyone", async () => {
    const r = await head.request("/healthz");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ok", database: { engine, ok: true } });
  });

  test("GET /api/v1/workers and /api/v1/metrics/current answer JSON", async () => {
    const workers = await (await head.request("/api/v1/workers", { as: "viewer-token" })).json();
    expect(workers.workers).toContainEqual(expect.objectContaining({ name: "gpu-01", status: "online", gpuCount: 2 }));
    const cur = await (await head.request("/api/v1/metrics/current", { as: "viewer" })).json();
    const gpu01 = cur.workers.find((w: { name: string }) => w.name === "gpu-01");
    expect(gpu01.sample.gpus).toHaveLength(2);
    expect(gpu01.sample.gpus[0].name).toBe("NVIDIA H100 80GB HBM3");
  });

  test("GET /api/v1/workers/:id gives one worker with its GPUs and latest sample; an unknown id is 404", async () => {
    const list = await (await head.request("/api/v1/workers", { as: "viewer-token" })).json();
    const id = list.workers.find((w: { name: string }) => w.name === "gpu-01").id;
    const one = await (await head.request(`/api/v1/workers/${id}`, { as: "viewer-token" })).json();
    expect(one.worker).toMatchObject({ name: "gpu-01", status: "online" });
    expect(one.gpus.map((g: { index: number; computeCapability: string }) => [g.index, g.computeCapability])).toEqual([
      [0, "9.0"],
      [1, "9.0"],
    ]);
    expect(one.latest.sample.gpus).toHaveLength(2);
    expect(one.connected).toBe(false);
    expect((await head.request("/api/v1/workers/424242", { as: "viewer-token" })).status).toBe(404);
  });

  test("GET /api/v1/gpus/free lists idle GPUs of online workers, most free memory first", async () => {
    const id = await upsertWorker(head.database.db, { name: "gpu-idle", kind: "remote" });
    const sample = makeSample(1, { ts: new Date(Date.now() - 300), gpus: 3 });
    sample.gpus[0] = { ...sample.gpus[0]!, utilization: 0, memoryUsed: 500, memoryFree: 81059 }; // free
    sample.gpus[1] = { ...sample.gpus[1]!, utilization: 0, memoryUsed: 40000, memoryFree: 41559 }; // idle but memory held
    sample.gpus[2] = { ...sample.gpus[2]!, utilization: 2, memoryUsed: 100, memoryFree: 81459 }; // free, more memory
    await head.ctx.ingestor.ingest({ id, name: "gpu-idle" }, sample);
    const free = (await (await head.request("/api/v1/gpus/free", { as: "viewer" })).json()).gpus;
    const mine = free.filter((g: { worker: string }) => g.worker === "gpu-idle");
    expect(mine.map((g: { index: number; memoryFreeMiB: number }) => [g.index, g.memoryFreeMiB])).toEqual([
      [2, 81459],
      [0, 81059],
    ]);
  });

  test("GET / renders the fleet page with Pico", async () => {
    const r = await head.request("/", { as: "viewer" });
    expect(r.headers.get("content-type")).toStartWith("text/html");
    const html = await r.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toMatch(/href="\/static\/pico\.min\.css\?v=[0-9a-f]{12}"/);
    expect(html).toContain("gpu-01");
  });

  test("names from agents are escaped in HTML", async () => {
    await upsertWorker(head.database.db, { name: '<script>alert("x")</script>', kind: "remote" });
    const html = await (await head.request("/", { as: "viewer" })).text();
    expect(html).not.toContain('<script>alert("x")</script>');
    expect(html).toContain("&lt;script&gt;");
  });

  test("every static asset is served with its type, and unknown ones are 404", async () => {
    for (const [name, asset] of Object.entries(STATIC_ASSETS)) {
      const r = await head.request(`/static/${name}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(asset.type);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100);
      const again = await head.request(`/static/${name}`, { headers: { "if-none-match": r.headers.get("etag")! } });
      expect(again.status).toBe(304);
    }
    expect((await head.request("/static/nope.js")).status).toBe(404);
    expect((await head.request("/static/..%2Fpackage.json")).status).toBe(404);
  });

  test("assets linked by content hash are cached for a year; the bare name only briefly", async () => {
    const url = assetUrl("dashboard.css");
    expect(url).toMatch(/^\/static\/dashboard\.css\?v=[0-9a-f]{12}$/);
    const hashed = await head.request(url);
    expect(hashed.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const bare = await head.request("/static/dashboard.css");
    expect(bare.headers.get("cache-control")).toBe("public, max-age=300");
    // A stale hash (an old page after an upgrade) still gets the file, not a year-long promise.
    const stale = await head.request("/static/dashboard.css?v=000000000000");
    expect(stale.status).toBe(200);
    expect(stale.headers.get("cache-control")).toBe("public, max-age=300");
  });

  test("unknown paths are a JSON 404", async () => {
    const r = await head.request("/api/v1/nothing-here", { as: "viewer" });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "not found", path: "/api/v1/nothing-here" });
  });

  test("/healthz says 503 when the database is gone", async () => {
    const other = await freshDatabase(engine);
    const app2 = createApp({ ...head.ctx, database: other });
    await other.close();
    const r = await app2.handle(new Request("http://vigil.test/healthz"));
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: "unavailable", database: { ok: false } });
  });
});
