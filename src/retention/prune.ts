// Retention: deletes raw samples, rollups, process records, health check results and settled deliveries past their age, in small batches.
import type { Database } from "../db/client.ts";

export interface Retention {
  /** Seconds each kind of row is kept. */
  raw: number;
  minute: number;
  hour: number;
  processes: number;
}

/** Rows per DELETE: a few milliseconds of work, so the writer's next flush is never held up for long. */
export const PRUNE_BATCH = 5000;

interface Target {
  table: string;
  column: string;
  cutoff: Date;
}

export type PruneResult = Record<string, number>;

/**
 * Deletes what is older than each table's retention. Raw samples and minute rollups still waiting
 * to be rolled up are kept (the cutoff stops at the oldest pending bucket), so a stalled rollup
 * never loses data to pruning.
 */
export async function prune(
  database: Database,
  retention: Retention,
  opts: { now?: Date; batch?: number; yieldBetween?: () => Promise<void> } = {},
): Promise<PruneResult> {
  const now = opts.now ?? new Date();
  const batch = opts.batch ?? PRUNE_BATCH;
  const pause = opts.yieldBetween ?? (() => new Promise<void>((r) => setImmediate(r)));
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const [pending] = await database.query<{ m: Date | null; h: Date | null }>(
    `select min(bucket) filter (where tier = '1m') as m, min(bucket) filter (where tier = '1h') as h from rollup_pending`,
  );
  const before = (d: Date, limit: Date | null | undefined) => (limit && new Date(limit) < d ? new Date(limit) : d);
  const rawCutoff = before(ago(retention.raw), pending?.m);
  const minuteCutoff = before(ago(retention.minute), pending?.h);
  const targets: Target[] = [
    { table: "gpu_samples", column: "ts", cutoff: rawCutoff },
    { table: "host_samples", column: "ts", cutoff: rawCutoff },
    { table: "gpu_rollup_1m", column: "bucket", cutoff: minuteCutoff },
    { table: "host_rollup_1m", column: "bucket", cutoff: minuteCutoff },
    { table: "gpu_rollup_1h", column: "bucket", cutoff: ago(retention.hour) },
    { table: "host_rollup_1h", column: "bucket", cutoff: ago(retention.hour) },
    { table: "gpu_processes", column: "ts", cutoff: ago(retention.processes) },
  ];
  const workers = await database.query<{ id: number }>("select id from workers order by id");
  const removed: PruneResult = {};
  for (const t of targets) {
    removed[t.table] = 0;
    // Per worker, so each batch is found through the (worker_id, time) index instead of a scan of the table.
    const sql = `delete from ${t.table} where ctid = any(array(
      select ctid from ${t.table} where worker_id = $1 and ${t.column} < $2 limit $3))`;
    const count = `with d as (${sql} returning 1) select count(*)::int as n from d`;
    for (const w of workers) {
      for (;;) {
        const [r] = await database.query<{ n: number }>(count, [w.id, t.cutoff.toISOString(), batch]);
        const n = r?.n ?? 0;
        removed[t.table] = (removed[t.table] ?? 0) + n;
        await pause();
        if (n < batch) break;
      }
    }
  }
  // Health checks: results are kept as long as minute rollups (uptime is computed from the status
  // windows, which stay); settled notification deliveries as long too. Per service, through its index.
  removed.check_results = 0;
  const services = await database.query<{ id: number }>("select id from services order by id");
  for (const s of services) {
    for (;;) {
      const [r] = await database.query<{ n: number }>(
        `with d as (delete from check_results where ctid = any(array(
          select ctid from check_results where service_id = $1 and at < $2 limit $3)) returning 1) select count(*)::int as n from d`,
        [s.id, ago(retention.minute).toISOString(), batch],
      );
      const n = r?.n ?? 0;
      removed.check_results += n;
      await pause();
      if (n < batch) break;
    }
  }
  const [d] = await database.query<{ n: number }>(
    `with d as (delete from deliveries where status <> 'queued' and created_at < $1 returning 1) select count(*)::int as n from d`,
    [ago(retention.minute).toISOString()],
  );
  removed.deliveries = d?.n ?? 0;
  return removed;
}
