// Batched writer: queues sample rows and commits them in one transaction per flush, resolving each batch's promise after commit.
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { bulkInsertSql } from "../db/bulk.ts";
import { gpuProcesses, gpuSamples, hostSamples, workers } from "../db/schema/index.ts";
import type { Logger } from "../log.ts";
import type { GpuProcessRow, GpuSampleRow, HostSampleRow } from "./rows.ts";

export interface WriteBatch {
  workerId: number;
  seq: number;
  ts: Date;
  host: HostSampleRow;
  gpus: GpuSampleRow[];
  /** Per-process GPU memory, present only on the samples chosen to record it (every VIGIL_PROCESS_INTERVAL). */
  processes?: GpuProcessRow[];
}

interface Pending {
  batch: WriteBatch;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface WriterOptions {
  /** Longest a row waits before its flush starts. */
  flushIntervalMs?: number;
  /** A flush starts at once when this many samples are queued. */
  maxBatchSamples?: number;
  /** Beyond this many queued samples the oldest are dropped (the database is away too long). */
  maxQueuedSamples?: number;
  /** Beyond this many queued samples agents are told "busy" and keep theirs (ingest/batch.ts): back-pressure. */
  busyAt?: number;
  log: Logger;
}

/** Rows per statement: one JSON parameter each, kept to a few MB so no single statement stalls the database. */
const ROWS_PER_STATEMENT = 2000;

export class BatchedWriter {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private closing = false;
  private failures = 0;
  readonly stats = { committedSamples: 0, committedGpuRows: 0, flushes: 0, failedFlushes: 0, droppedSamples: 0 };
  private readonly flushIntervalMs: number;
  private readonly maxBatchSamples: number;
  private readonly maxQueuedSamples: number;
  /** Queued samples beyond which new ones are refused as busy (VIGIL_INGEST_QUEUE_MAX). */
  readonly busyAt: number;
  private readonly log: Logger;

  constructor(
    private readonly db: Db,
    opts: WriterOptions,
  ) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 500;
    this.maxBatchSamples = opts.maxBatchSamples ?? 500;
    this.busyAt = opts.busyAt ?? 20_000;
    // Dropping is for samples that slipped past the busy answer (the in-process agent, batches already taken).
    this.maxQueuedSamples = Math.max(opts.maxQueuedSamples ?? 100_000, this.busyAt * 2);
    this.log = opts.log;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues one sample's rows; the promise settles when they are committed (acks wait on it). */
  write(batch: WriteBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error("writer is closed"));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (this.queue.length > this.maxQueuedSamples) {
        const dropped = this.queue.shift()!;
        this.stats.droppedSamples++;
        dropped.reject(new Error("dropped: the database has been unavailable too long"));
        if (this.stats.droppedSamples % 1000 === 1) {
          this.log.warn("write queue full, dropping oldest samples", { dropped: this.stats.droppedSamples });
        }
      }
      if (this.queue.length >= this.maxBatchSamples) void this.flush();
      else this.schedule(this.flushIntervalMs);
    });
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Commits everything queued now. Concurrent calls share one flush in progress, then run again. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const taken = this.queue.splice(0, this.maxBatchSamples);
    const started = performance.now();
    try {
      await this.commit(taken.map((p) => p.batch));
      this.failures = 0;
      this.stats.flushes++;
      this.stats.committedSamples += taken.length;
      for (const p of taken) {
        this.stats.committedGpuRows += p.batch.gpus.length;
        p.resolve();
      }
      this.log.debug("flushed samples", { samples: taken.length, ms: Math.round(performance.now() - started) });
    } catch (err) {
      // Keep the rows and retry with backoff: a database restart must not lose what agents sent.
      this.queue.unshift(...taken);
      this.failures++;
      this.stats.failedFlushes++;
      const retryMs = Math.min(30_000, this.flushIntervalMs * 2 ** Math.min(this.failures, 6));
      this.log.error("writing samples failed; will retry", {
        error: err,
        samples: taken.length,
        retryInMs: retryMs,
        ms: Math.round(performance.now() - started),
      });
      if (this.closing) throw err;
      this.schedule(retryMs);
      return;
    }
    if (this.queue.length >= this.maxBatchSamples) void this.flush();
    else if (this.queue.length > 0) this.schedule(this.flushIntervalMs);
  }

  private async commit(batches: WriteBatch[]): Promise<void> {
    const hostRows = batches.map((b) => b.host);
    const gpuRows = batches.flatMap((b) => b.gpus);
    const processRows = batches.flatMap((b) => b.processes ?? []);
    // The minutes these samples fall in need their rollups (re)computed: marked in the same
    // transaction, so no committed sample is ever left out of its rollup. Sorted, so that two heads
    // marking the same rows take their locks in the same order.
    const marks = [...new Set(batches.map((b) => `${b.workerId}|${Math.floor(b.ts.getTime() / 60_000) * 60_000}`))].sort().map((k) => {
      const [w, m] = k.split("|");
      return { w: Number(w), b: new Date(Number(m)).toISOString() };
    });
    const seen = new Map<number, { seq: number; ts: Date }>();
    for (const b of batches) {
      const cur = seen.get(b.workerId);
      if (!cur) seen.set(b.workerId, { seq: b.seq, ts: b.ts });
      else {
        if (b.seq > cur.seq) cur.seq = b.seq;
        if (b.ts > cur.ts) cur.ts = b.ts;
      }
    }
    await this.db.transaction(async (tx) => {
      // A replayed sample (same worker and instant) is stored once.
      for (let i = 0; i < hostRows.length; i += ROWS_PER_STATEMENT) {
        await tx.execute(bulkInsertSql(hostSamples, hostRows.slice(i, i + ROWS_PER_STATEMENT), { onConflictDoNothing: true }));
      }
      for (let i = 0; i < gpuRows.length; i += ROWS_PER_STATEMENT) {
        await tx.execute(bulkInsertSql(gpuSamples, gpuRows.slice(i, i + ROWS_PER_STATEMENT), { onConflictDoNothing: true }));
      }
      for (let i = 0; i < processRows.length; i += ROWS_PER_STATEMENT) {
        await tx.execute(bulkInsertSql(gpuProcesses, processRows.slice(i, i + ROWS_PER_STATEMENT), { onConflictDoNothing: true }));
      }
      // DO UPDATE (not DO NOTHING) takes the row lock that makes a concurrent rollup wait for this commit.
      await tx.execute(sql`insert into rollup_pending (tier, worker_id, bucket, marked_at)
        select '1m', x.w, x.b, now() from json_to_recordset(${JSON.stringify(marks)}::json) as x(w int, b timestamptz)
        on conflict (tier, worker_id, bucket) do update set marked_at = excluded.marked_at`);
      for (const [workerId, { seq, ts }] of seen) {
        await tx
          .update(workers)
          .set({
            lastSeenAt: sql`greatest(${workers.lastSeenAt}, ${ts.toISOString()}::timestamptz)`,
            lastSeq: sql`greatest(${workers.lastSeq}, ${seq})`,
          })
          .where(sql`${workers.id} = ${workerId}`);
      }
    });
  }

  /** Flushes what is queued (retrying a few times), then refuses new writes. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (let attempt = 0; this.queue.length > 0 || this.flushing; attempt++) {
      try {
        await this.flush();
      } catch (err) {
        if (attempt >= 2) {
          this.log.error("could not write pending samples before shutdown", { error: err, lost: this.queue.length });
          for (const p of this.queue.splice(0)) p.reject(new Error("writer closed before commit"));
          break;
        }
        await Bun.sleep(200 * (attempt + 1));
      }
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
