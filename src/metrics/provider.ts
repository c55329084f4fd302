// What a metrics provider gets: one snapshot of the head's state per scrape, and the exposition to add its families to.
import type { WorkerSummary } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import type { LatestEntry } from "../ingest/latest.ts";
import type { Exposition } from "./exposition.ts";

export interface MetricsSnapshot {
  ctx: HeadContext;
  /** Every registered worker with its status, read once per scrape. */
  workers: WorkerSummary[];
  /** The scrape's time, in ms since the epoch. */
  now: number;
}

/** Adds its families to the exposition; may read the database (async) but must not change anything. */
export type MetricsProvider = (snapshot: MetricsSnapshot, out: Exposition) => void | Promise<void>;

export interface ReportingWorker {
  worker: WorkerSummary;
  latest: LatestEntry;
}

/**
 * The workers whose vitals are exported: online or stale ones with a latest sample. An offline worker's last
 * sample is hours old; exported as current it would hold a dead machine's GPUs at their last load on every
 * dashboard, so it is left out and `vigil_worker_up` says the worker is down (as a failed scrape would for
 * dcgm-exporter).
 */
export function reportingWorkers(snapshot: MetricsSnapshot): ReportingWorker[] {
  const out: ReportingWorker[] = [];
  for (const worker of snapshot.workers) {
    if (worker.status !== "online" && worker.status !== "stale") continue;
    const latest = snapshot.ctx.latest.get(worker.id);
    if (latest) out.push({ worker, latest });
  }
  return out;
}
