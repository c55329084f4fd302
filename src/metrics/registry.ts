// The metrics registry: every provider of /metrics families in one list (a new source of series is one line here).
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { Exposition } from "./exposition.ts";
import { gpuMetrics } from "./gpu.ts";
import { hostMetrics } from "./host.ts";
import { alertMetrics } from "./alerts.ts";
import { clusterMetrics } from "./cluster.ts";
import type { MetricsProvider } from "./provider.ts";
import { buildMetrics, ingestMetrics, workerMetrics } from "./vigil.ts";

export const METRICS_PROVIDERS: readonly MetricsProvider[] = [
  buildMetrics,
  workerMetrics,
  ingestMetrics,
  gpuMetrics,
  hostMetrics,
  alertMetrics,
  clusterMetrics,
];

/** One scrape: a single read of the worker list, then every provider in order, rendered as exposition text. */
export async function renderMetrics(
  ctx: HeadContext,
  providers: readonly MetricsProvider[] = METRICS_PROVIDERS,
  now = Date.now(),
): Promise<string> {
  const workers = await listWorkers(ctx.database.db, ctx.latest.heardAt, now);
  const snapshot = { ctx, workers, now };
  const out = new Exposition();
  for (const provide of providers) await provide(snapshot, out);
  return out.render();
}
