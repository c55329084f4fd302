// Latest-state cache: the newest sample of every worker, kept in memory for the API and rebuilt from the database at start.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { gpuProcesses, gpuSamples, gpus, hostSamples, workers } from "../db/schema/index.ts";
import type { GpuProcess, Sample } from "../protocol/sample.ts";
import { sampleFromRows } from "./rows.ts";

export interface LatestEntry {
  workerId: number;
  workerName: string;
  /** When the head received (or, after a restart, stored) this sample. */
  receivedAt: Date;
  sample: Sample;
}

/** One point of a worker's recent trail: the mean GPU utilization (or CPU, with no GPU) of a sample. */
export interface RecentPoint {
  ts: number;
  gpuUtilization: number | null;
  cpuPercent: number | null;
}

/** Samples kept per worker for the fleet page's sparklines. */
export const RECENT_POINTS = 60;

export function recentPointOf(sample: Sample): RecentPoint {
  const utils = sample.gpus.map((g) => g.utilization).filter((u): u is number => u !== null && u !== undefined);
  return {
    ts: Date.parse(sample.ts),
    gpuUtilization: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
    cpuPercent: sample.host.cpuPercent ?? null,
  };
}

export class LatestCache {
  private byWorker = new Map<number, LatestEntry>();
  private trails = new Map<number, RecentPoint[]>();

  /** Keeps the entry only if it is newer than what is held (replayed backlog must not hide the present). */
  update(entry: LatestEntry): boolean {
    const cur = this.byWorker.get(entry.workerId);
    if (cur && Date.parse(cur.sample.ts) >= Date.parse(entry.sample.ts)) return false;
    this.byWorker.set(entry.workerId, entry);
    this.push(entry.workerId, recentPointOf(entry.sample));
    return true;
  }

  private push(workerId: number, p: RecentPoint): void {
    let trail = this.trails.get(workerId);
    if (!trail) this.trails.set(workerId, (trail = []));
    trail.push(p);
    if (trail.length > RECENT_POINTS) trail.splice(0, trail.length - RECENT_POINTS);
  }

  /** The worker's last RECENT_POINTS samples, oldest first (rebuilt from the database after a restart). */
  recent(workerId: number): readonly RecentPoint[] {
    return this.trails.get(workerId) ?? [];
  }

  /** When the newest sample of the worker arrived (arrow: handed around as a function). */
  heardAt = (workerId: number): Date | undefined => this.byWorker.get(workerId)?.receivedAt;

  get(workerId: number): LatestEntry | undefined {
    return this.byWorker.get(workerId);
  }

  all(): LatestEntry[] {
    return [...this.byWorker.values()].sort((a, b) => a.workerName.localeCompare(b.workerName));
  }

  forget(workerId: number): void {
    this.byWorker.delete(workerId);
    this.trails.delete(workerId);
  }

  /** Loads each worker's newest stored sample, so a restarted head answers at once. */
  async rebuild(db: Db): Promise<number> {
    const loaded = await this.loadNewest(db);
    await this.rebuildTrails(db);
    return loaded;
  }

  /**
   * Reads these workers' newest stored samples (another head ingested them and told this one after
   * its commit); returns the ids whose entry moved forward.
   */
  async refresh(db: Db, workerIds: readonly number[]): Promise<number[]> {
    if (workerIds.length === 0) return [];
    const before = new Map(workerIds.map((id) => [id, this.byWorker.get(id)]));
    await this.loadNewest(db, workerIds);
    return workerIds.filter((id) => this.byWorker.get(id) !== before.get(id));
  }

  private async loadNewest(db: Db, only?: readonly number[]): Promise<number> {
    const newest = and(
      eq(hostSamples.workerId, workers.id),
      eq(hostSamples.ts, sql`(select max(${hostSamples.ts}) from ${hostSamples} where ${hostSamples.workerId} = ${workers.id})`),
    );
    const latest = await db
      .select({ worker: workers, host: hostSamples })
      .from(workers)
      .innerJoin(hostSamples, only ? and(newest, inArray(workers.id, [...only])) : newest);
    if (latest.length === 0) return 0;
    // Three queries for any number of workers: each worker's newest (worker, ts) pair as arrays.
    const pairs = sql`select * from unnest(${`{${latest.map((l) => l.worker.id).join(",")}}`}::int[], ${`{${latest.map((l) => `"${l.host.ts.toISOString()}"`).join(",")}}`}::timestamptz[]) as n(worker_id, ts)`;
    const allGpuRows = await db
      .select({ row: gpuSamples, gpu: gpus })
      .from(gpuSamples)
      .innerJoin(gpus, eq(gpus.id, gpuSamples.gpuId))
      .where(sql`(${gpuSamples.workerId}, ${gpuSamples.ts}) in (${pairs})`);
    // The processes recorded last (at most VIGIL_PROCESS_INTERVAL before the sample).
    const allProcRows = await db
      .select()
      .from(gpuProcesses)
      .where(
        sql`(${gpuProcesses.workerId}, ${gpuProcesses.ts}) in (select p.worker_id, (select max(ts) from gpu_processes where worker_id = p.worker_id and ts <= p.ts) from (${pairs}) p)`,
      );
    const gpusOf = groupBy(allGpuRows, (g) => g.row.workerId);
    const procsOf = groupBy(allProcRows, (p) => p.workerId);
    for (const { worker, host } of latest) {
      const gpuRows = gpusOf.get(worker.id) ?? [];
      const procRows = procsOf.get(worker.id) ?? [];
      const procs = new Map<number, GpuProcess[]>();
      for (const p of procRows) {
        const list = procs.get(p.gpuId) ?? [];
        const type = p.type === "compute" || p.type === "graphics" || p.type === "both" ? p.type : undefined;
        list.push({
          pid: p.pid,
          name: p.name,
          user: p.user,
          usedMemoryMiB: p.usedMemoryMiB ?? 0,
          container: p.container,
          ...(type ? { type } : {}),
        });
        procs.set(p.gpuId, list);
      }
      this.update({
        workerId: worker.id,
        workerName: worker.name,
        receivedAt: host.ts,
        sample: sampleFromRows(worker, host, gpuRows, (id) => procs.get(id) ?? []),
      });
    }
    return latest.length;
  }

  private async rebuildTrails(db: Db): Promise<void> {
    // The sparklines' trails: each worker's last samples of the past 10 minutes, from storage.
    const trail = await db.execute<{ worker_id: number; ts: string | Date; cpu: number | null; gpu: number | null }>(sql`
      select h.worker_id, h.ts, h.cpu_percent as cpu,
             (select avg(g.utilization)::float8 from ${gpuSamples} g where g.worker_id = h.worker_id and g.ts = h.ts) as gpu
        from (select worker_id, ts, cpu_percent, row_number() over (partition by worker_id order by ts desc) as rn
                from ${hostSamples} where ts > now() - interval '10 minutes') h
       where h.rn <= ${RECENT_POINTS}
       order by h.worker_id, h.ts`);
    const rows = (Array.isArray(trail) ? trail : (trail as { rows: unknown[] }).rows) as {
      worker_id: number;
      ts: string | Date;
      cpu: number | null;
      gpu: number | null;
    }[];
    this.trails.clear();
    for (const r of rows) {
      this.push(Number(r.worker_id), {
        ts: new Date(r.ts).getTime(),
        gpuUtilization: r.gpu === null ? null : Number(r.gpu),
        cpuPercent: r.cpu === null ? null : Number(r.cpu),
      });
    }
  }
}

function groupBy<T>(rows: readonly T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}
