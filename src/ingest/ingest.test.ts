import { expect, test } from "bun:test";
import { describeEachEngine } from "../../test/harness/engines.ts";
import { makeSample } from "../../test/fixtures/samples.ts";
import { listWorkers, upsertWorker } from "../fleet/workers.ts";
import { log, setLogSink } from "../log.ts";
import { ingestBatch } from "./batch.ts";
import { Ingestor, SampleRejected } from "./ingest.ts";
import { LatestCache } from "./latest.ts";
import { BatchedWriter } from "./writer.ts";
import type { Db } from "../db/client.ts";

const quiet = log.child({ test: "ingest" });

describeEachEngine("ingest", (_engine, open) => {
  test("the cache keeps each worker's last 60 samples for sparklines, newest last, and rebuilds them from storage", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 2 });
    const latest = new LatestCache();
    const ingestor = new Ingestor(database.db, writer, latest);
    const id = await upsertWorker(database.db, { name: "trail", kind: "remote", hostname: "trail" });
    const start = Math.floor(Date.now() / 1000) * 1000 - 100_000;
    const commits = [];
    for (let k = 0; k < 70; k++) {
      const s = makeSample(k, { ts: new Date(start + k * 1000) });
      s.gpus = s.gpus.map((g, i) => ({ ...g, utilization: k + i * 10 }));
      // One at a time, as an agent sends them: concurrent ingests may reach the cache out of order.
      await ingestor.ingest({ id, name: "trail" }, s);
    }
    // An old sample replayed late does not enter the trail.
    commits.push(ingestor.ingest({ id, name: "trail" }, makeSample(999, { ts: new Date(start - 50_000) })));
    await Promise.all(commits);
    const trail = latest.recent(id);
    expect(trail.length).toBe(60);
    expect(trail.at(-1)).toEqual({ ts: start + 69_000, gpuUtilization: 69 + 5, cpuPercent: 12.5 });
    expect(trail[0]!.ts).toBe(start + 10_000);
    const rebuilt = new LatestCache();
    await rebuilt.rebuild(database.db);
    expect(rebuilt.recent(id)).toEqual(trail);
    await writer.close();
  });

  test("a simulated worker is still labelled simulated after a head restart", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 2 });
    const ingestor = new Ingestor(database.db, writer, new LatestCache());
    const sim = await upsertWorker(database.db, { name: "sim-0001", kind: "remote", hostname: "sim-0001" });
    const real = await upsertWorker(database.db, { name: "gpu-01", kind: "remote", hostname: "gpu-01" });
    const s = makeSample(1, { ts: new Date(Date.now() - 5_000) });
    await ingestor.ingest({ id: sim, name: "sim-0001" }, { ...s, host: { ...s.host, simulated: true } });
    await ingestor.ingest({ id: real, name: "gpu-01" }, makeSample(2, { ts: new Date(Date.now() - 4_000) }));
    await writer.close();
    const rebuilt = new LatestCache();
    await rebuilt.rebuild(database.db);
    expect(rebuilt.get(sim)!.sample.host.simulated).toBe(true);
    expect(rebuilt.get(real)!.sample.host.simulated).toBeUndefined();
  });

  test("samples are committed in batches, the latest is cached, and a replayed sample is stored once", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 20, maxBatchSamples: 7 });
    const latest = new LatestCache();
    const ingestor = new Ingestor(database.db, writer, latest);
    const id = await upsertWorker(database.db, { name: "gpu-07", kind: "remote", hostname: "gpu-07" });
    const worker = { id, name: "gpu-07" };

    const commits = [];
    for (let seq = 0; seq < 25; seq++) commits.push(ingestor.ingest(worker, makeSample(seq)));
    commits.push(ingestor.ingest(worker, makeSample(3))); // a replay after a reconnect
    await Promise.all(commits);

    const host = await database.query<{ n: number; maxseq: string }>(
      "select count(*)::int as n, max(seq)::text as maxseq from host_samples",
    );
    expect(host[0]).toEqual({ n: 25, maxseq: "24" });
    const gpuRows = await database.query<{ n: number }>("select count(*)::int as n from gpu_samples");
    expect(gpuRows[0]!.n).toBe(50);
    expect(writer.stats.flushes).toBeGreaterThanOrEqual(4); // 26 samples in batches of at most 7

    const [w] = await listWorkers(database.db, undefined, Date.parse(makeSample(24).ts) + 1000);
    expect(w).toMatchObject({ name: "gpu-07", gpuCount: 2, status: "online", lastSeenAt: makeSample(24).ts });
    expect(latest.get(id)?.sample.seq).toBe(24); // the replay of seq 3 did not replace the present

    // A restarted head rebuilds the same latest sample from the database alone.
    const rebuilt = new LatestCache();
    expect(await rebuilt.rebuild(database.db)).toBe(1);
    expect(rebuilt.get(id)?.sample).toEqual(makeSample(24));
    await writer.close();
  });

  test("another head's cache reads the newest committed sample of the workers it is told of, once each, and tells which moved", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 2 });
    const here = new LatestCache();
    const ingestor = new Ingestor(database.db, writer, here);
    const committed: number[] = [];
    ingestor.onCommitted((workerId) => committed.push(workerId));
    const a = await upsertWorker(database.db, { name: "a", kind: "remote", hostname: "gpu-07" });
    const b = await upsertWorker(database.db, { name: "b", kind: "remote", hostname: "gpu-07" });
    const start = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    await ingestor.ingest({ id: a, name: "a" }, makeSample(1, { ts: new Date(start) }));
    await ingestor.ingest({ id: b, name: "b" }, makeSample(1, { ts: new Date(start) }));
    await ingestor.ingest({ id: a, name: "a" }, makeSample(2, { ts: new Date(start + 1000) }));
    // Told only once the rows are committed, so the other head finds them.
    expect(committed).toEqual([a, b, a]);

    const there = new LatestCache();
    expect((await there.refresh(database.db, [a, b])).sort()).toEqual([a, b].sort());
    expect(there.get(a)?.sample).toEqual(makeSample(2, { ts: new Date(start + 1000) }));
    expect(there.get(b)?.sample).toEqual(makeSample(1, { ts: new Date(start) }));
    // Nothing newer: nothing moved.
    expect(await there.refresh(database.db, [a, b])).toEqual([]);
    await writer.close();
  });

  test("a malformed sample is refused with the field named and nothing is written", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 10 });
    const ingestor = new Ingestor(database.db, writer, new LatestCache());
    const id = await upsertWorker(database.db, { name: "w", kind: "remote" });
    const bad = { ...makeSample(1), host: { ...makeSample(1).host, memoryUsed: "lots" } };
    await expect(ingestor.ingestUntrusted({ id, name: "w" }, bad)).rejects.toThrow(
      new SampleRejected("invalid sample: /host/memoryUsed: Expected union value"),
    );
    const future = makeSample(2, { ts: new Date(Date.now() + 3600_000) });
    await expect(ingestor.ingestUntrusted({ id, name: "w" }, future)).rejects.toThrow("in the future");
    await writer.close();
    expect((await database.query<{ n: number }>("select count(*)::int as n from host_samples"))[0]!.n).toBe(0);
    expect(ingestor.stats).toEqual({ accepted: 0, rejected: 2 });
  });

  test("a failed commit keeps the rows and retries until the database answers", async () => {
    const database = await open();
    let failuresLeft = 2;
    // Fault injection at the one seam the writer uses: its transaction.
    const flaky = new Proxy(database.db, {
      get(target, prop, receiver) {
        if (prop === "transaction") {
          return (fn: Parameters<Db["transaction"]>[0]) => {
            if (failuresLeft-- > 0) return Promise.reject(new Error("connection reset"));
            return target.transaction(fn);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const writer = new BatchedWriter(flaky, { log: quiet, flushIntervalMs: 5 });
    const ingestor = new Ingestor(database.db, writer, new LatestCache());
    const id = await upsertWorker(database.db, { name: "w", kind: "remote" });
    const lines: string[] = [];
    const restore = setLogSink((line) => lines.push(line));
    try {
      await Promise.all([0, 1, 2].map((seq) => ingestor.ingest({ id, name: "w" }, makeSample(seq))));
    } finally {
      restore();
    }
    expect(writer.stats.failedFlushes).toBe(2);
    // Each failure is logged with the loop's name, the error and when it retries.
    const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "writing samples failed; will retry");
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      level: "error",
      context: { test: "ingest", error: { message: "connection reset" }, samples: expect.any(Number), retryInMs: 10 },
    });
    expect((await database.query<{ n: number }>("select count(*)::int as n from host_samples"))[0]!.n).toBe(3);
    await writer.close();
  });

  test("beyond the writer's busyAt (VIGIL_INGEST_QUEUE_MAX) a batch is answered busy, nothing taken; below it again, taken", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 60_000, maxBatchSamples: 1000, busyAt: 3 });
    const ingestor = new Ingestor(database.db, writer, new LatestCache());
    const id = await upsertWorker(database.db, { name: "w", kind: "remote" });
    const first = ingestBatch(
      ingestor,
      writer,
      { id, name: "w" },
      [0, 1, 2, 3].map((seq) => makeSample(seq)),
    );
    for (let i = 0; i < 500 && writer.queued < 4; i++) await Bun.sleep(10);
    const refused = await ingestBatch(ingestor, writer, { id, name: "w" }, [makeSample(4), makeSample(5)]);
    expect(refused.acked).toEqual([]);
    expect(refused.busy).toEqual({ seqs: [4, 5], retryAfterMs: 2_000 });
    await writer.flush();
    expect((await first).acked).toEqual([0, 1, 2, 3]);
    const taken = ingestBatch(ingestor, writer, { id, name: "w" }, [makeSample(4), makeSample(5)]);
    for (let i = 0; i < 500 && writer.queued < 2; i++) await Bun.sleep(10);
    await writer.close();
    expect((await taken).acked).toEqual([4, 5]);
  });

  test("close() flushes what is queued", async () => {
    const database = await open();
    const writer = new BatchedWriter(database.db, { log: quiet, flushIntervalMs: 60_000 });
    const ingestor = new Ingestor(database.db, writer, new LatestCache());
    const id = await upsertWorker(database.db, { name: "w", kind: "remote" });
    for (let seq = 0; seq < 5; seq++) void ingestor.ingest({ id, name: "w" }, makeSample(seq));
    for (let i = 0; i < 500 && writer.queued < 5; i++) await Bun.sleep(10);
    expect(writer.queued).toBe(5);
    await writer.close();
    expect((await database.query<{ n: number }>("select count(*)::int as n from host_samples"))[0]!.n).toBe(5);
  });
});
