// JSON and CSV history API: a worker's metrics over a range (tier chosen to fit `points`), summary statistics, and GPU processes.
import { Elysia } from "elysia";
import { asc, eq, or } from "drizzle-orm";
import { gpus as gpusTable, workers } from "../db/schema/index.ts";
import type { HeadContext } from "../head/context.ts";
import { toCsv, type Cell } from "../history/csv.ts";
import {
  onlyKnown,
  ParamError,
  parseFormat,
  parseGpus,
  parseMetrics,
  parsePoints,
  parseRange,
  type GpuRef,
  type Query,
} from "../history/params.ts";
import { queryProcesses } from "../history/processes.ts";
import { querySeries, type Series } from "../history/series.ts";
import { queryStats, statsTier, type MetricStats } from "../history/stats.ts";
import { planQuery } from "../history/tiers.ts";
import { retentionOf } from "../retention/loop.ts";
import { guard } from "./guard.ts";

const HOUR_MS = 3600_000;

interface WorkerRef {
  id: number;
  name: string;
  gpus: GpuRef[];
}

/** A worker by numeric id or by name (names are unique), with its GPUs. */
async function findWorker(ctx: HeadContext, key: string): Promise<WorkerRef | undefined> {
  const db = ctx.database.db;
  const byId = /^\d{1,9}$/.test(key) ? Number(key) : -1;
  const [w] = await db
    .select({ id: workers.id, name: workers.name })
    .from(workers)
    .where(or(eq(workers.id, byId), eq(workers.name, key)))
    .orderBy(asc(workers.id))
    .limit(1);
  if (!w) return undefined;
  const gpus = await db
    .select({ id: gpusTable.id, index: gpusTable.index, uuid: gpusTable.uuid, name: gpusTable.name })
    .from(gpusTable)
    .where(eq(gpusTable.workerId, w.id))
    .orderBy(asc(gpusTable.index), asc(gpusTable.id));
  return { ...w, gpus };
}

type Handler = (args: { worker: WorkerRef; query: Query; request: Request; now: Date }) => Promise<Response | object>;

/** Shared shape of every history endpoint: the worker or 404, parameters or 400, JSON or CSV. */
function historyRoute(ctx: HeadContext, handler: Handler) {
  return async ({ params, query, request }: { params: { id: string }; query: Query; request: Request }) => {
    try {
      const worker = await findWorker(ctx, decodeURIComponent(params.id));
      if (!worker) return Response.json({ error: `no worker with id or name "${params.id}"` }, { status: 404 });
      return await handler({ worker, query, request, now: new Date() });
    } catch (err) {
      if (err instanceof ParamError) return Response.json({ error: err.message, parameter: err.parameter }, { status: 400 });
      throw err;
    }
  };
}

function csvResponse(name: string, body: string): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      // A safe file name whatever the worker is called: it is a header, not data.
      "content-disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}.csv"`,
    },
  });
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/** Long format, one row per point and metric: loads as is into pandas, R or a spreadsheet pivot. */
function seriesCsv(gpus: { index: number; uuid: string; series: Series }[], host: Series | null): string {
  const rows: Cell[][] = [];
  const emit = (target: string, uuid: string, s: Series) => {
    for (const [metric, agg] of Object.entries(s.metrics)) {
      s.ts.forEach((ts, i) => rows.push([ts, target, uuid, metric, agg.min[i], agg.avg[i], agg.max[i], s.samples[i]]));
    }
  };
  for (const g of gpus) emit(`gpu${g.index}`, g.uuid, g.series);
  if (host) emit("host", "", host);
  return toCsv(["ts", "target", "uuid", "metric", "min", "avg", "max", "samples"], rows);
}

function statsCsv(
  gpus: { index: number; uuid: string; metrics: Record<string, MetricStats> }[],
  host: Record<string, MetricStats> | null,
): string {
  const rows: Cell[][] = [];
  const emit = (target: string, uuid: string, metrics: Record<string, MetricStats>) => {
    for (const [metric, s] of Object.entries(metrics)) rows.push([target, uuid, metric, s.min, s.avg, s.max, s.p95, s.samples]);
  };
  for (const g of gpus) emit(`gpu${g.index}`, g.uuid, g.metrics);
  if (host) emit("host", "", host);
  return toCsv(["target", "uuid", "metric", "min", "avg", "max", "p95", "samples"], rows);
}

export function historyApiRoutes(ctx: HeadContext) {
  const retention = retentionOf(ctx.config);
  return new Elysia({ name: "api-history", prefix: "/api/v1" })
    .use(guard(ctx))
    .get(
      "/workers/:id/metrics",
      historyRoute(ctx, async ({ worker, query, request, now }) => {
        onlyKnown(query, ["since", "until", "gpu", "metrics", "points", "format"]);
        const format = parseFormat(query.format, request.headers.get("accept"));
        const range = parseRange(query, now, HOUR_MS);
        const points = parsePoints(query.points);
        const metrics = parseMetrics(query.metrics, query.gpu === undefined);
        const gpus = parseGpus(query.gpu, worker.gpus);
        const plan = planQuery(range.since, range.until, points, retention, now);
        const result = await querySeries(ctx.database, worker.id, gpus, metrics, plan);
        if (format === "csv") {
          return csvResponse(
            `${worker.name}-metrics-${stamp(plan.since)}`,
            seriesCsv(
              result.gpus.map((g) => ({ index: g.index, uuid: g.uuid, series: g })),
              result.host,
            ),
          );
        }
        return {
          worker: { id: worker.id, name: worker.name },
          since: plan.since.toISOString(),
          until: plan.until.toISOString(),
          tier: plan.tier.name,
          stepSeconds: plan.stepSeconds,
          maxPoints: points,
          units: Object.fromEntries([...metrics.gpu, ...metrics.host].map((m) => [`${m.scope}.${m.name}`, m.unit])),
          gpus: result.gpus,
          host: result.host,
        };
      }),
      { access: "viewer" },
    )
    .get(
      "/workers/:id/stats",
      historyRoute(ctx, async ({ worker, query, request, now }) => {
        onlyKnown(query, ["since", "until", "gpu", "metrics", "format"]);
        const format = parseFormat(query.format, request.headers.get("accept"));
        const range = parseRange(query, now, HOUR_MS);
        const metrics = parseMetrics(query.metrics, query.gpu === undefined);
        const gpus = parseGpus(query.gpu, worker.gpus);
        const tier = statsTier(range.since, retention, now);
        const result = await queryStats(ctx.database, worker.id, gpus, metrics, range, tier);
        if (format === "csv")
          return csvResponse(`${worker.name}-stats-${stamp(range.since)}`, statsCsv(result.gpus, result.host?.metrics ?? null));
        return {
          worker: { id: worker.id, name: worker.name },
          since: range.since.toISOString(),
          until: range.until.toISOString(),
          ...result,
        };
      }),
      { access: "viewer" },
    )
    .get(
      "/workers/:id/processes",
      historyRoute(ctx, async ({ worker, query, request, now }) => {
        onlyKnown(query, ["since", "until", "gpu", "format"]);
        const format = parseFormat(query.format, request.headers.get("accept"));
        const range = parseRange(query, now, 24 * HOUR_MS);
        const gpus = parseGpus(query.gpu, worker.gpus);
        const processes = await queryProcesses(ctx.database, gpus, range);
        if (format === "csv") {
          return csvResponse(
            `${worker.name}-processes-${stamp(range.since)}`,
            toCsv(
              ["gpu", "uuid", "pid", "name", "user", "container", "firstSeen", "lastSeen", "maxMemoryMiB", "avgMemoryMiB", "samples"],
              processes.map((p) => [
                p.gpu,
                p.uuid,
                p.pid,
                p.name,
                p.user,
                p.container,
                p.firstSeen,
                p.lastSeen,
                p.maxMemoryMiB,
                p.avgMemoryMiB,
                p.samples,
              ]),
            ),
          );
        }
        return {
          worker: { id: worker.id, name: worker.name },
          since: range.since.toISOString(),
          until: range.until.toISOString(),
          processes,
        };
      }),
      { access: "viewer" },
    );
}
