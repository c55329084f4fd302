// GPU queries over the fleet: each worker's registered GPUs, and the GPUs idle right now (where a job could start).
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { gpus } from "../db/schema/index.ts";
import type { LatestEntry } from "../ingest/latest.ts";
import type { WorkerSummary } from "./workers.ts";

export type GpuRecord = typeof gpus.$inferSelect;

export async function workerGpus(db: Db, workerId: number): Promise<GpuRecord[]> {
  return db.select().from(gpus).where(eq(gpus.workerId, workerId)).orderBy(asc(gpus.index));
}

/** Idle: no compute at all, and (almost) no memory held. A GPU whose memory is held while idle is not free. */
export const IDLE_UTILIZATION = 5; // %
export const IDLE_MEMORY_SHARE = 0.05;

export interface FreeGpu {
  workerId: number;
  worker: string;
  index: number;
  uuid: string;
  name: string;
  memoryFreeMiB: number | null;
  memoryTotalMiB: number | null;
  utilization: number | null;
  temperature: number | null;
  sampledAt: string;
}

/** From the latest sample of each online worker: GPUs not lost, below the idle thresholds, most free memory first. */
export function freeGpus(workers: WorkerSummary[], latest: (id: number) => LatestEntry | undefined): FreeGpu[] {
  const out: FreeGpu[] = [];
  for (const w of workers) {
    if (w.status !== "online") continue;
    const entry = latest(w.id);
    if (!entry) continue;
    for (const g of entry.sample.gpus) {
      if (g.lost || g.utilization === null || g.utilization > IDLE_UTILIZATION) continue;
      const share = g.memoryUsed !== null && g.memoryTotal ? g.memoryUsed / g.memoryTotal : null;
      if (share === null || share > IDLE_MEMORY_SHARE) continue;
      out.push({
        workerId: w.id,
        worker: w.name,
        index: g.index,
        uuid: g.uuid,
        name: g.name,
        memoryFreeMiB: g.memoryFree ?? (g.memoryTotal !== null && g.memoryUsed !== null ? g.memoryTotal - g.memoryUsed : null),
        memoryTotalMiB: g.memoryTotal,
        utilization: g.utilization,
        temperature: g.temperature,
        sampledAt: entry.sample.ts,
      });
    }
  }
  return out.sort((a, b) => (b.memoryFreeMiB ?? 0) - (a.memoryFreeMiB ?? 0) || a.worker.localeCompare(b.worker) || a.index - b.index);
}
