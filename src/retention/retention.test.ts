// Rollups against the raw data they summarise, late samples, retention boundaries and batched pruning, on both engines.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachEngine } from "../../test/harness/engines.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import { historySample, loadHistory, powerOf, utilOf, type HistorySpec } from "../../test/fixtures/history.ts";
import { prune } from "./prune.ts";

const HOUR = 3600_000;

describeEachEngine("retention", (engine) => {
  let head: TestHead;
  let spec: HistorySpec;
  // Three whole hours ago, so the history spans closed hours on both sides of a boundary.
  const startMs = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

  beforeAll(async () => {
    head = await startTestHead(engine);
    const worker = { id: head.agent.workerId, name: head.agent.name };
    // One sample every 20 s for 2.5 h: 450 samples, 150 minutes, 3 hours touched.
    spec = { worker, startMs: startMs + 30 * 60_000, count: 450, stepMs: 20_000 };
    await loadHistory(head.ctx, spec);
  }, 60_000);
  afterAll(() => head?.close());

  const q = <T>(text: string, params?: unknown[]) => head.database.query<T>(text, params);

  test("every marked minute and hour is rolled up, and the queue is left empty", async () => {
    const r = await head.ctx.retention.rollupNow();
    expect(r.minutes).toBe(150);
    expect(r.hours).toBe(3);
    const [left] = await q<{ n: number }>("select count(*)::int as n from rollup_pending");
    expect(left!.n).toBe(0);
    const [m] = await q<{ g: number; h: number }>(
      "select (select count(*) from gpu_rollup_1m)::int as g, (select count(*) from host_rollup_1m)::int as h",
    );
    expect(m).toEqual({ g: 300, h: 150 });
  });

  test("1-minute rollups equal min / avg / max computed from the samples", async () => {
    const rows = await q<{
      bucket: Date;
      idx: number;
      n: number;
      umin: number;
      uavg: number;
      umax: number;
      pavg: number;
      tavg: number | null;
    }>(
      `select r.bucket, g.index as idx, r.n, r.utilization_min as umin, r.utilization_avg as uavg, r.utilization_max as umax,
              r.power_w_avg as pavg, r.memory_temperature_avg as tavg
         from gpu_rollup_1m r join gpus g on g.id = r.gpu_id order by r.bucket, g.index`,
    );
    expect(rows.length).toBe(300);
    for (const row of rows) {
      const ks = [0, 1, 2].map((j) => (new Date(row.bucket).getTime() - spec.startMs) / spec.stepMs + j);
      const u = ks.map((k) => utilOf(k, row.idx));
      expect(row.n).toBe(3);
      expect(row.umin).toBe(Math.min(...u));
      expect(row.umax).toBe(Math.max(...u));
      expect(row.uavg).toBeCloseTo(u.reduce((a, b) => a + b) / 3, 3);
      expect(row.pavg).toBeCloseTo(ks.map((k) => powerOf(k, row.idx)).reduce((a, b) => a + b) / 3, 3);
      // memoryTemperature is null on every third sample: the average is over the others only.
      const temps = ks.filter((k) => k % 3 !== 0).map((k) => 60 + (k % 5));
      expect(row.tavg).toBeCloseTo(temps.reduce((a, b) => a + b) / temps.length, 3);
    }
  });

  test("1-hour rollups weight each minute by its samples and match the raw data", async () => {
    const rows = await q<{ bucket: Date; idx: number; n: number; umin: number; uavg: number; umax: number }>(
      `select r.bucket, g.index as idx, r.n, r.utilization_min as umin, r.utilization_avg as uavg, r.utilization_max as umax
         from gpu_rollup_1h r join gpus g on g.id = r.gpu_id order by r.bucket, g.index`,
    );
    expect(rows.length).toBe(6);
    for (const row of rows) {
      const from = new Date(row.bucket).getTime();
      const ks = Array.from({ length: spec.count }, (_, k) => k).filter((k) => {
        const t = spec.startMs + k * spec.stepMs;
        return t >= from && t < from + HOUR;
      });
      const u = ks.map((k) => utilOf(k, row.idx));
      expect(row.n).toBe(ks.length);
      expect(row.umin).toBe(Math.min(...u));
      expect(row.umax).toBe(Math.max(...u));
      expect(row.uavg).toBeCloseTo(u.reduce((a, b) => a + b) / u.length, 2);
    }
    const host = await q<{ n: number }>("select n from host_rollup_1h order by bucket");
    expect(host.map((h) => h.n)).toEqual([90, 180, 180]);
  });

  test("a late sample for a minute already rolled up is counted on the next pass, in its minute and its hour", async () => {
    const late = historySample({ ...spec, seqBase: 100_000 }, 0);
    late.ts = new Date(spec.startMs + 5_000).toISOString(); // inside the first minute
    late.gpus[0]!.utilization = 100;
    await head.ctx.ingestor.ingest(spec.worker, late);
    const r = await head.ctx.retention.rollupNow();
    expect(r.minutes).toBe(1);
    expect(r.hours).toBe(1);
    const [row] = await q<{ n: number; umax: number }>(
      `select r.n, r.utilization_max as umax from gpu_rollup_1m r join gpus g on g.id = r.gpu_id
        where g.index = 0 and r.bucket = $1`,
      [new Date(spec.startMs).toISOString()],
    );
    expect(row).toEqual({ n: 4, umax: 100 });
    const [hour] = await q<{ n: number; umax: number }>(
      `select r.n, r.utilization_max as umax from gpu_rollup_1h r join gpus g on g.id = r.gpu_id where g.index = 0 order by bucket limit 1`,
    );
    expect(hour).toEqual({ n: 91, umax: 100 });
  });

  test("processes are recorded once per 10 s per GPU, not with every sample", async () => {
    // Samples come every 20 s here, so each is recorded: one row per GPU and sample (plus the late one).
    const [p] = await q<{ n: number }>("select count(*)::int as n from gpu_processes");
    expect(p!.n).toBe(450 * 2 + 2);
    // After the history's last sample: in the first two minutes of an hour "two minutes ago" would fall among its slots.
    const historyEnd = spec.startMs + spec.count * spec.stepMs;
    const dense: HistorySpec = {
      ...spec,
      startMs: Math.max(Date.now() - 120_000, historyEnd + 1_000),
      count: 30,
      stepMs: 1000,
      seqBase: 200_000,
    };
    await loadHistory(head.ctx, dense);
    const [d] = await q<{ n: number }>("select count(*)::int as n from gpu_processes where ts >= $1", [
      new Date(dense.startMs).toISOString(),
    ]);
    // 30 samples a second apart cross 3 or 4 ten-second slots: one record per slot and GPU.
    expect([6, 8]).toContain(d!.n);
  });

  test("pruning removes exactly what is past each retention, in batches, and keeps what is not rolled up yet", async () => {
    await head.ctx.retention.rollupNow();
    const now = new Date(spec.startMs + 2 * HOUR); // raw cutoff one hour in: the first 90 samples go
    const cutoff = new Date(now.getTime() - HOUR);
    const [before] = await q<{ old: number; total: number }>(
      "select count(*) filter (where ts < $1)::int as old, count(*)::int as total from host_samples",
      [cutoff.toISOString()],
    );
    // A health check result older than the minute retention goes; one inside it stays.
    const minuteCutoff = now.getTime() - 5400 * 1000;
    await q("insert into check_results (service_id, at, status) select id, $1, 'healthy' from services order by id limit 1", [
      new Date(minuteCutoff - 60_000).toISOString(),
    ]);
    await q("insert into check_results (service_id, at, status) select id, $1, 'healthy' from services order by id limit 1", [
      new Date(minuteCutoff + 60_000).toISOString(),
    ]);
    const removed = await prune(
      head.database,
      { raw: 3600, minute: 5400, hour: 365 * 86400, processes: 3600 },
      { now, batch: 17, yieldBetween: async () => {} },
    );
    expect(removed.host_samples).toBe(before!.old);
    expect(removed.check_results).toBe(1);
    expect(removed.deliveries).toBe(0);
    expect(removed.gpu_samples).toBe(before!.old * 2);
    const [after] = await q<{ oldest: Date; total: number }>("select min(ts) as oldest, count(*)::int as total from host_samples");
    expect(new Date(after!.oldest).getTime()).toBeGreaterThanOrEqual(cutoff.getTime());
    expect(after!.total).toBe(before!.total - before!.old);
    // Minute rollups older than 90 minutes went; the hours stay (kept a year).
    const [m] = await q<{ oldest: Date }>("select min(bucket) as oldest from gpu_rollup_1m");
    expect(new Date(m!.oldest).getTime()).toBeGreaterThanOrEqual(now.getTime() - 5400_000);
    const [h] = await q<{ n: number }>("select count(*)::int as n from gpu_rollup_1h where bucket < $1", [
      new Date(startMs + 3 * HOUR).toISOString(),
    ]);
    expect(h!.n).toBe(6);

    // A sample older than the cutoff whose minute is not rolled up yet survives the prune.
    const late = historySample({ ...spec, seqBase: 300_000 }, 0);
    late.ts = new Date(spec.startMs + 31 * 60_000 + 1000).toISOString();
    await head.ctx.ingestor.ingest(spec.worker, late);
    await prune(head.database, { raw: 3600, minute: 5400, hour: 365 * 86400, processes: 3600 }, { now });
    const [kept] = await q<{ n: number }>("select count(*)::int as n from host_samples where ts = $1", [late.ts]);
    expect(kept!.n).toBe(1);
    await head.ctx.retention.rollupNow();
    await prune(head.database, { raw: 3600, minute: 5400, hour: 365 * 86400, processes: 3600 }, { now });
    const [gone] = await q<{ n: number }>("select count(*)::int as n from host_samples where ts = $1", [late.ts]);
    expect(gone!.n).toBe(0);
  });
});

describeEachEngine("retention loop", (engine, open) => {
  test("rolls up on its own timer, prunes on its own, logs what it removed, and stop() waits for the job in progress", async () => {
    const database = await open();
    const lines: { msg: string; context?: Record<string, unknown> }[] = [];
    const log = {
      debug: (msg: string, context?: Record<string, unknown>) => lines.push({ msg, context }),
      info: (msg: string, context?: Record<string, unknown>) => lines.push({ msg, context }),
      warn: (msg: string, context?: Record<string, unknown>) => lines.push({ msg, context }),
      error: (msg: string, context?: Record<string, unknown>) => lines.push({ msg, context }),
      child: () => log,
    };
    const [w] = await database.query<{ id: number }>("insert into workers (name) values ('loop') returning id");
    await database.query(
      `insert into host_samples (worker_id, ts, seq, cpu_percent, gpu_source) values ($1, now() - interval '2 days', 1, 50, 'none'), ($1, now(), 2, 70, 'none')`,
      [w!.id],
    );
    await database.query(
      `insert into rollup_pending (tier, worker_id, bucket, marked_at) values ('1m', $1, date_bin('1 minute', now(), timestamptz 'epoch'), now())`,
      [w!.id],
    );
    const { startRetentionLoop } = await import("./loop.ts");
    const loop = startRetentionLoop({
      database,
      log,
      retention: { raw: 86400, minute: 30 * 86400, hour: 365 * 86400, processes: 7 * 86400 },
      rollupEveryMs: 50,
      firstPruneAfterMs: 100,
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !lines.some((l) => l.msg === "pruned history")) await Bun.sleep(50);
    await loop.stop();
    const [m] = await database.query<{ n: number }>("select count(*)::int as n from host_rollup_1m");
    expect(m!.n).toBe(1);
    const pruned = lines.find((l) => l.msg === "pruned history");
    expect(pruned?.context).toMatchObject({ removed: 1, host_samples: 1 });
    const [left] = await database.query<{ n: number }>("select count(*)::int as n from host_samples");
    expect(left!.n).toBe(1);
  });
});
