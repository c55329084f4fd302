// The history API end to end on both engines: tiers chosen and said, values equal to the raw data, stats with p95, processes, CSV, and every 400.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachEngine } from "../harness/engines.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { cpuOf, historySample, loadHistory, powerOf, utilOf, type HistorySpec } from "../fixtures/history.ts";

const MIN = 60_000;
const HOUR = 3600_000;

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function p95(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = 0.95 * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describeEachEngine("history API", (engine) => {
  let head: TestHead;
  let recent: HistorySpec;
  let old: HistorySpec;
  const base = () => `/api/v1/workers/${head.agent.workerId}`;
  const get = (path: string, opts: Parameters<TestHead["request"]>[1] = {}) => head.request(path, { as: "viewer-token", ...opts });
  const json = async (path: string) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    head = await startTestHead(engine);
    const worker = { id: head.agent.workerId, name: head.agent.name };
    // Recent: the last 2.5 hours (minutes aligned), a sample every 20 s. Old: 3 days ago, 30 minutes.
    const startMs = Math.floor((Date.now() - 150 * MIN) / MIN) * MIN;
    recent = { worker, startMs, count: 440, stepMs: 20_000 };
    old = { worker, startMs: Math.floor((Date.now() - 3 * 86400_000) / HOUR) * HOUR, count: 90, stepMs: 20_000, seqBase: 10_000 };
    await loadHistory(head.ctx, old);
    await loadHistory(head.ctx, recent);
    await head.ctx.retention.rollupNow();
  }, 60_000);
  afterAll(() => head?.close());

  const iso = (ms: number) => new Date(ms).toISOString();

  test("a short range is answered from raw samples, point for point", async () => {
    const since = recent.startMs;
    const body = await json(`${base()}/metrics?since=${iso(since)}&until=${iso(since + 10 * MIN)}&metrics=utilization,cpuPercent`);
    expect(body.tier).toBe("raw");
    expect(body.stepSeconds).toBe(1);
    expect(body.gpus.map((g: any) => g.index)).toEqual([0, 1]);
    const g1 = body.gpus[1];
    expect(g1.ts.length).toBe(30);
    expect(g1.ts[0]).toBe(iso(since));
    expect(g1.metrics.utilization.avg).toEqual(Array.from({ length: 30 }, (_, k) => utilOf(k, 1)));
    expect(Object.keys(g1.metrics)).toEqual(["utilization"]);
    expect(body.host.metrics.cpuPercent.max).toEqual(Array.from({ length: 30 }, (_, k) => cpuOf(k)));
    expect(body.units).toEqual({ "gpu.utilization": "%", "host.cpuPercent": "%" });
  });

  test("a long range uses the 1-minute rollups, and each point equals the raw samples it covers", async () => {
    const since = recent.startMs;
    const until = since + 140 * MIN;
    const body = await json(`${base()}/metrics?since=${iso(since)}&until=${iso(until)}&points=50&gpu=0&metrics=utilization`);
    expect(body.tier).toBe("1m");
    expect(body.stepSeconds).toBe(180);
    const s = body.gpus[0];
    expect(s.ts.length).toBeLessThanOrEqual(50);
    expect(s.ts.length).toBe(47);
    s.ts.forEach((t: string, i: number) => {
      const from = (Date.parse(t) - since) / recent.stepMs;
      const ks = Array.from({ length: 9 }, (_, j) => from + j).filter(
        (k) => k < recent.count && recent.startMs + k * recent.stepMs < until,
      );
      const u = ks.map((k) => utilOf(k, 0));
      expect(s.samples[i]).toBe(ks.length);
      expect(s.metrics.utilization.min[i]).toBe(Math.min(...u));
      expect(s.metrics.utilization.max[i]).toBe(Math.max(...u));
      expect(s.metrics.utilization.avg[i]).toBeCloseTo(avg(u), 3);
    });
  });

  test("a range older than the raw retention is answered from rollups; a very long one from hours", async () => {
    const body = await json(`${base()}/metrics?since=${iso(old.startMs)}&until=${iso(old.startMs + 30 * MIN)}&gpu=0&metrics=utilization`);
    expect(body.tier).toBe("1m");
    expect(body.gpus[0].ts.length).toBe(30);
    const long = await json(`${base()}/metrics?since=-5d&metrics=cpuPercent`);
    expect(long.tier).toBe("1m");
    const year = await json(`${base()}/metrics?since=-200d&points=100&metrics=cpuPercent`);
    expect(year.tier).toBe("1h");
    // The old half hour and the recent hours, each hour one point.
    expect(year.host.samples.reduce((a: number, b: number) => a + b, 0)).toBe(old.count + recent.count);
  });

  test("minutes not rolled up yet are read from the raw samples", async () => {
    const fresh: HistorySpec = { ...recent, startMs: Date.now() - 30_000, count: 10, stepMs: 2000, seqBase: 50_000 };
    await loadHistory(head.ctx, fresh);
    const body = await json(`${base()}/metrics?since=-20h&metrics=cpuPercent`);
    expect(body.tier).toBe("1m");
    const total = body.host.samples.reduce((a: number, b: number) => a + b, 0);
    expect(total).toBe(recent.count + fresh.count);
    await head.ctx.retention.rollupNow();
    const again = await json(`${base()}/metrics?since=-20h&metrics=cpuPercent`);
    expect(again.host.samples.reduce((a: number, b: number) => a + b, 0)).toBe(total);
  });

  test("stats give min, max, avg and an exact p95 from raw samples; older ranges say they come from rollups", async () => {
    const since = recent.startMs;
    const body = await json(`${base()}/stats?since=${iso(since)}&until=${iso(since + 60 * MIN)}&metrics=utilization,cpuPercent`);
    expect(body.tier).toBe("raw");
    expect(body.p95Of).toBe("samples");
    const u = Array.from({ length: 180 }, (_, k) => utilOf(k, 0));
    const s = body.gpus[0].metrics.utilization;
    expect(s.samples).toBe(180);
    expect(s.min).toBe(Math.min(...u));
    expect(s.max).toBe(Math.max(...u));
    expect(s.avg).toBeCloseTo(avg(u), 3);
    expect(s.p95).toBeCloseTo(p95(u), 3);
    const c = Array.from({ length: 180 }, (_, k) => cpuOf(k));
    expect(body.host.metrics.cpuPercent.p95).toBeCloseTo(p95(c), 3);
    // Several metrics at once: each keeps its own figures.
    const multi = await json(
      `${base()}/stats?since=${iso(since)}&until=${iso(since + 60 * MIN)}&gpu=0&metrics=utilization,powerUsage,temperature`,
    );
    expect(multi.gpus[0].metrics.utilization.max).toBe(Math.max(...u));
    expect(multi.gpus[0].metrics.powerUsage.max).toBe(Math.max(...Array.from({ length: 180 }, (_, k) => powerOf(k, 0))));
    expect(multi.gpus[0].metrics.temperature).toMatchObject({ min: 71, max: 71, p95: 71, samples: 180 });

    const older = await json(`${base()}/stats?since=${iso(old.startMs)}&until=${iso(old.startMs + HOUR)}&gpu=1&metrics=utilization`);
    expect(older.tier).toBe("1m");
    expect(older.p95Of).toBe("1-minute averages");
    const ou = Array.from({ length: old.count }, (_, k) => utilOf(k, 1));
    expect(older.gpus.length).toBe(1);
    expect(older.gpus[0].metrics.utilization).toMatchObject({ min: Math.min(...ou), max: Math.max(...ou), samples: old.count });
    expect(older.gpus[0].metrics.utilization.avg).toBeCloseTo(avg(ou), 2);
  });

  test("processes: who held each GPU, first and last seen, peak memory", async () => {
    const body = await json(`${base()}/processes?since=${iso(recent.startMs)}&until=${iso(recent.startMs + HOUR)}&gpu=1`);
    expect(body.processes).toEqual([
      {
        gpu: 1,
        uuid: "GPU-00000000-0000-0000-0000-000000000001",
        pid: 1001,
        name: "python3",
        user: "alice",
        container: null,
        firstSeen: iso(recent.startMs),
        lastSeen: iso(recent.startMs + 179 * recent.stepMs),
        maxMemoryMiB: 1000 + 179,
        avgMemoryMiB: 1000 + 89.5,
        samples: 180,
      },
    ]);
  });

  test("CSV with ?format=csv or Accept: text/csv, one row per point and metric, formula-like text defused", async () => {
    const since = recent.startMs;
    const q = `since=${iso(since)}&until=${iso(since + 2 * MIN)}&metrics=utilization,cpuPercent`;
    for (const res of [
      await get(`${base()}/metrics?${q}&format=csv`),
      await get(`${base()}/metrics?${q}`, { headers: { accept: "text/csv" } }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.csv"$/);
      const lines = (await res.text()).trimEnd().split("\r\n");
      expect(lines[0]).toBe("ts,target,uuid,metric,min,avg,max,samples");
      expect(lines.length).toBe(1 + 6 * 2 + 6); // 6 points for each of 2 GPUs and the host
      expect(lines[1]).toBe(`${iso(since)},gpu0,GPU-00000000-0000-0000-0000-000000000000,utilization,0,0,0,1`);
    }
    const stats = await get(`${base()}/stats?${q}&format=csv`);
    expect((await stats.text()).split("\r\n")[0]).toBe("target,uuid,metric,min,avg,max,p95,samples");

    const evil = historySample({ ...recent, seqBase: 90_000 }, 0);
    // Clear of the other samples' 10-second process slots, so its processes are recorded.
    evil.ts = iso(Math.floor((Date.now() - 75_000) / 10_000) * 10_000);
    evil.gpus[0]!.processes = [
      { pid: 6666, name: '=HYPERLINK("http://x","y")', user: "mallory", usedMemoryMiB: 1, container: null, type: "compute" },
    ];
    await head.ctx.ingestor.ingest({ id: head.agent.workerId, name: head.agent.name }, evil);
    const procs = await (await get(`${base()}/processes?since=-2m&gpu=0&format=csv`)).text();
    expect(procs).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
  });

  test("a worker may be named instead of numbered; an unknown one is a 404; anonymous callers get 401", async () => {
    const body = await json(`/api/v1/workers/${head.agent.name}/stats?since=-1h&metrics=cpuPercent`);
    expect(body.worker.id).toBe(head.agent.workerId);
    expect((await get(`/api/v1/workers/no-such-worker/metrics`)).status).toBe(404);
    // A malformed escape is the caller's error (Elysia answers 400 before the route), never a server failure.
    for (const path of ["/api/v1/workers/%E0%A4%A/metrics", "/api/v1/workers/%E0%A4%A"]) expect((await get(path)).status).toBe(400);
    for (const path of ["metrics", "stats", "processes"]) {
      expect((await get(`${base()}/${path}`, { as: "anonymous" })).status).toBe(401);
    }
  });

  test.each([
    ["metrics", "since=yesterday", "since"],
    ["metrics", "since=2026-13-45T99:00:00Z", "since"],
    ["metrics", "until=soon", "until"],
    ["metrics", "since=-1h&until=-2h", "since"],
    ["metrics", "points=0", "points"],
    ["metrics", "points=abc", "points"],
    ["metrics", "points=1.5", "points"],
    ["metrics", "points=20000", "points"],
    ["metrics", "metrics=utilisation", "metrics"],
    ["metrics", "metrics=disk.cpuPercent", "metrics"],
    ["metrics", "gpu=7", "gpu"],
    ["metrics", "gpu=GPU-nope", "gpu"],
    ["metrics", "format=xml", "format"],
    ["metrics", "sinse=-1h", "sinse"],
    ["stats", "since=noon", "since"],
    ["stats", "points=10", "points"],
    ["stats", "metrics=nope", "metrics"],
    ["processes", "gpu=9", "gpu"],
    ["processes", "until=2026-11-23T25:00Z", "until"],
    ["processes", "metrics=utilization", "metrics"],
  ])("GET %s?%s is a 400 naming %s", async (path, query, parameter) => {
    const res = await get(`${base()}/${path}?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; parameter: string };
    expect(body.parameter).toBe(parameter);
    expect(body.error).toContain(parameter);
  });
});
