// JSON and CSV history API: a worker's metrics over a range (tier chosen to fit `points`), summary statistics, and GPU processes.
import { Elysia, t } from "elysia";
import { workerGpus } from "../fleet/gpus.ts";
import { findWorker, listWorkers } from "../fleet/workers.ts";
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
import { decodeKey } from "./respond.ts";
import { doc, queryParams, WORKER_ID_PARAMS } from "./openapi.ts";

const HOUR_MS = 3600_000;

const HISTORY_PARAMS = t.Object({
  id: t.String({ description: "The worker's id or name, from GET /api/v1/workers.", examples: ["gpu-07"] }),
});
const RANGE_QUERY = {
  since: {
    description:
      "Start: ISO 8601 (no offset means UTC) or relative to now, e.g. -24h, -7d. Default: 1 h before until (24 h for processes).",
    example: "-24h",
  },
  until: { description: "End, exclusive: ISO 8601 or relative. Default: now.", example: "2026-11-23T10:00:00Z" },
};
const POINTS_QUERY = { description: "Most points per series, 1 to 10000. Default 1000.", example: "1000" };
const GPU_QUERY = { description: "GPUs by index or UUID, comma-separated; `all` (the default) for every GPU.", example: "0,3" };
const METRICS_QUERY = {
  description: "Metrics, comma-separated (`gpu.` or `host.` picks the scope of a name both have). Default: all.",
  example: "utilization,memoryUsed,cpuPercent",
};
const FORMAT_QUERY = { description: "`csv` or `json`; `Accept: text/csv` also asks for CSV. Default json.", example: "csv" };

const EXAMPLE_SERIES = {
  worker: { id: 7, name: "gpu-07" },
  since: "2026-11-22T10:00:00.000Z",
  until: "2026-11-23T10:00:00.000Z",
  tier: "1m",
  stepSeconds: 120,
  maxPoints: 1000,
  units: { "gpu.utilization": "%" },
  gpus: [
    {
      index: 3,
      uuid: "GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44",
      name: "NVIDIA H100 80GB HBM3",
      ts: ["2026-11-22T10:00:00.000Z", "2026-11-22T10:02:00.000Z"],
      samples: [120, 120],
      metrics: { utilization: { min: [88, 90], avg: [96.4, 97.1], max: [100, 100] } },
    },
  ],
  host: null,
};
const EXAMPLE_SERIES_CSV =
  "ts,target,uuid,metric,min,avg,max,samples\r\n2026-11-22T10:00:00.000Z,gpu3,GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44,utilization,88,96.4,100,120\r\n";
const EXAMPLE_STATS = {
  worker: { id: 7, name: "gpu-07" },
  since: "2026-11-23T09:00:00.000Z",
  until: "2026-11-23T10:00:00.000Z",
  tier: "raw",
  p95Of: "samples",
  gpus: [
    {
      index: 0,
      uuid: "GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44",
      name: "NVIDIA H100 80GB HBM3",
      metrics: { utilization: { min: 0, max: 100, avg: 71.5, p95: 100, samples: 3600 } },
    },
  ],
  host: { metrics: { cpuPercent: { min: 2.5, max: 97, avg: 31.2, p95: 88.1, samples: 3600 } } },
};
const EXAMPLE_STATS_CSV = "target,uuid,metric,min,avg,max,p95,samples\r\nhost,,cpuPercent,2.5,31.2,97,88.1,3600\r\n";
const EXAMPLE_PROCESSES = {
  worker: { id: 7, name: "gpu-07" },
  since: "2026-11-22T10:00:00.000Z",
  until: "2026-11-23T10:00:00.000Z",
  processes: [
    {
      gpu: 0,
      uuid: "GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44",
      pid: 4242,
      name: "python3",
      user: "alice",
      container: null,
      firstSeen: "2026-11-22T23:10:00.000Z",
      lastSeen: "2026-11-23T06:42:10.000Z",
      maxMemoryMiB: 39000,
      avgMemoryMiB: 37750.5,
      samples: 2712,
    },
  ],
};
const EXAMPLE_PROCESSES_CSV =
  "gpu,uuid,pid,name,user,container,firstSeen,lastSeen,maxMemoryMiB,avgMemoryMiB,samples\r\n0,GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44,4242,python3,alice,,2026-11-22T23:10:00.000Z,2026-11-23T06:42:10.000Z,39000,37750.5,2712\r\n";

interface WorkerRef {
  id: number;
  name: string;
  gpus: GpuRef[];
}

/** A worker by numeric id or by name, with its registered GPUs. */
async function findWorkerWithGpus(ctx: HeadContext, key: string): Promise<WorkerRef | undefined> {
  const w = findWorker(await listWorkers(ctx.database.db), key);
  return w ? { id: w.id, name: w.name, gpus: await workerGpus(ctx.database.db, w.id) } : undefined;
}

type Handler = (args: { worker: WorkerRef; query: Query; request: Request; now: Date }) => Promise<Response | object>;

/** Shared shape of every history endpoint: the worker or 404, parameters or 400, JSON or CSV. */
function historyRoute(ctx: HeadContext, handler: Handler) {
  return async ({ params, request }: { params: { id: string }; request: Request }) => {
    // The raw query string, not Elysia's parsed one: Elysia drops keys its (documentation) schema does not name, and
    // an unknown key must be a 400 here, not silently ignored.
    const query: Query = Object.fromEntries(new URL(request.url).searchParams);
    try {
      const worker = await findWorkerWithGpus(ctx, decodeKey(params.id));
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
      {
        access: "viewer",
        params: HISTORY_PARAMS,
        query: queryParams({ ...RANGE_QUERY, points: POINTS_QUERY, gpu: GPU_QUERY, metrics: METRICS_QUERY, format: FORMAT_QUERY }),
        detail: doc({
          tag: "History",
          summary: "A worker's GPU and host metrics over a range, as at most `points` min / avg / max points",
          description:
            "Reads the coarsest tier (raw, 1m, 1h) whose rows are no wider than the points asked for, among the tiers still holding `since`, and says which (`tier`, `stepSeconds`). Minutes not rolled up yet are read raw. Each series has its own `ts` (start of each point) and `samples` (samples behind each point); a metric a GPU does not report is null. Naming `gpu` leaves the host out unless `metrics` names host metrics.",
          response: { description: "The series", example: EXAMPLE_SERIES, also: { "text/csv": EXAMPLE_SERIES_CSV } },
          errors: {
            400: {
              description: "A parameter cannot be used; `parameter` names it",
              example: { error: 'points="0": expected a whole number from 1 to 10000', parameter: "points" },
            },
            404: 'no worker with id or name "gpu-99"',
          },
        }),
      },
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
      {
        access: "viewer",
        params: HISTORY_PARAMS,
        query: queryParams({ ...RANGE_QUERY, gpu: GPU_QUERY, metrics: METRICS_QUERY, format: FORMAT_QUERY }),
        detail: doc({
          tag: "History",
          summary: "min / max / avg / p95 of each metric over a range, per GPU and for the host",
          description:
            "From raw samples while the range is within the raw retention (p95 exact); past that from the finest rollup still holding it, where p95 is of the rollup rows' averages (`p95Of` says which).",
          response: { description: "The statistics", example: EXAMPLE_STATS, also: { "text/csv": EXAMPLE_STATS_CSV } },
          errors: {
            400: {
              description: "A parameter cannot be used; `parameter` names it",
              example: {
                error: 'since="noon": expected an ISO 8601 time such as 2026-11-23T10:00:00Z, or a relative one such as -24h',
                parameter: "since",
              },
            },
            404: 'no worker with id or name "gpu-99"',
          },
        }),
      },
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
      {
        access: "viewer",
        params: HISTORY_PARAMS,
        query: queryParams({ ...RANGE_QUERY, gpu: GPU_QUERY, format: FORMAT_QUERY }),
        detail: doc({
          tag: "History",
          summary: "Who held each GPU over a range: processes with first and last seen, peak and mean memory",
          description:
            "From the per-process records kept every VIGIL_PROCESS_INTERVAL (10 s) for VIGIL_RETENTION_PROCESSES (7 d); default range the last 24 h; newest first.",
          response: { description: "The processes", example: EXAMPLE_PROCESSES, also: { "text/csv": EXAMPLE_PROCESSES_CSV } },
          errors: {
            400: {
              description: "A parameter cannot be used; `parameter` names it",
              example: { error: 'gpu: this worker has no GPU "9" (its GPUs: 0, 1)', parameter: "gpu" },
            },
            404: 'no worker with id or name "gpu-99"',
          },
        }),
      },
    );
}
