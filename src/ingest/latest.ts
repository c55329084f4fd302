// Latest-state cache: the newest sample of every worker, kept in memory for the API and rebuilt from the database at start.
import { and, eq, sql } from "drizzle-orm";
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

export class LatestCache {
  private byWorker = new Map<number, LatestEntry>();

  /** Keeps the entry only if it is newer than what is held (replayed backlog must not hide the present). */
  update(entry: LatestEntry): boolean {
    const cur = this.byWorker.get(entry.workerId);
    if (cur && Date.parse(cur.sample.ts) >= Date.parse(entry.sample.ts)) return false;
    this.byWorker.set(entry.workerId, entry);
    return true;
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
  }

  /** Loads each worker's newest stored sample, so a restarted head answers at once. */
  async rebuild(db: Db): Promise<number> {
    const latest = await db
      .select({ worker: workers, host: hostSamples })
      .from(workers)
      .innerJoin(
        hostSamples,
        and(
          eq(hostSamples.workerId, workers.id),
          eq(hostSamples.ts, sql`(select max(${hostSamples.ts}) from ${hostSamples} where ${hostSamples.workerId} = ${workers.id})`),
        ),
      );
    for (const { worker, host } of latest) {
      const gpuRows = await db
        .select({ row: gpuSamples, gpu: gpus })
        .from(gpuSamples)
        .innerJoin(gpus, eq(gpus.id, gpuSamples.gpuId))
        .where(and(eq(gpuSamples.workerId, worker.id), eq(gpuSamples.ts, host.ts)));
      // The processes recorded last (at most VIGIL_PROCESS_INTERVAL before the sample).
      const procRows = await db
        .select()
        .from(gpuProcesses)
        .where(
          and(
            eq(gpuProcesses.workerId, worker.id),
            eq(
              gpuProcesses.ts,
              sql`(select max(${gpuProcesses.ts}) from ${gpuProcesses} where ${gpuProcesses.workerId} = ${worker.id} and ${gpuProcesses.ts} <= ${host.ts.toISOString()}::timestamptz)`,
            ),
          ),
        );
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
}
