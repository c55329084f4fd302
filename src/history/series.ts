// History of a worker's GPUs and host over a range: rows of the chosen tier binned into at most `points` min / avg / max points.
import type { Database } from "../db/client.ts";
import type { MetricDef } from "./catalogue.ts";
import type { GpuRef, MetricSelection } from "./params.ts";
import type { Plan } from "./tiers.ts";

export interface Aggregates {
  min: (number | null)[];
  avg: (number | null)[];
  max: (number | null)[];
}

export interface Series {
  /** Start of each point's interval, ISO 8601. */
  ts: string[];
  /** Samples each point summarises. */
  samples: number[];
  metrics: Record<string, Aggregates>;
}

export interface GpuSeries extends Series {
  index: number;
  uuid: string;
  name: string;
}

const q = (name: string) => `"${name}"`;

/** Rows of a tier as (k, bucket, n, m0_min, m0_avg, m0_max, ...): a raw sample is a row of one whose min, avg and max are its value. */
function source(plan: Plan, scope: "gpu" | "host", defs: readonly MetricDef[]): string {
  const key = scope === "gpu" ? "gpu_id" : "worker_id";
  const rawTable = scope === "gpu" ? "gpu_samples" : "host_samples";
  const inRange = (col: string) => `${key} = any($1::int[]) and ${col} >= $2 and ${col} < $3`;
  const rawCols = defs.map((d, i) => AGG.map((a) => `${q(d.column)}::float8 as ${q(`m${i}_${a}`)}`).join(", ")).join(", ");
  const raw = (from: string) => `select ${key} as k, ts as bucket, 1 as n, ${rawCols} from ${rawTable} where ${from}`;
  if (plan.tier.name === "raw") return raw(inRange("ts"));
  const table = scope === "gpu" ? plan.tier.gpuTable : plan.tier.hostTable;
  const rollCols = defs.map((d, i) => AGG.map((a) => `${q(`${d.column}_${a}`)}::float8 as ${q(`m${i}_${a}`)}`).join(", ")).join(", ");
  const rolled = `select ${key} as k, bucket, n, ${rollCols} from ${table} where ${inRange("bucket")}`;
  if (plan.tier.name !== "1m") return rolled;
  // The newest minutes are not rolled up yet (the loop runs every few seconds): they are read raw.
  const tailStart = `greatest($2::timestamptz, (select max(bucket) + interval '1 minute' from ${table} where ${inRange("bucket")}))`;
  return `${rolled} union all ${raw(`${key} = any($1::int[]) and ts >= ${tailStart} and ts < $3`)}`;
}

const AGG = ["min", "avg", "max"] as const;

function aggregates(defs: readonly MetricDef[]): string {
  return defs
    .map((_, i) => {
      const [mn, av, mx] = AGG.map((a) => q(`m${i}_${a}`));
      return `min(${mn}) as a${i}_min, sum(${av} * n) / nullif(sum(n) filter (where ${av} is not null), 0) as a${i}_avg, max(${mx}) as a${i}_max`;
    })
    .join(", ");
}

/**
 * Binned series per key (GPU row id or worker id), in time order. Each key's points come back as
 * one JSON array: PGlite's cost is per field returned, and 720 points of 21 metrics are 45,000
 * fields as rows but one as JSON (measured 47 -> see BENCHMARKS.md, history).
 */
async function binned(database: Database, plan: Plan, scope: "gpu" | "host", keys: number[], defs: readonly MetricDef[]) {
  const cols = defs.flatMap((_, i) => AGG.map((a) => `a${i}_${a}`));
  const text = `select k, json_agg(json_build_array(extract(epoch from t)::float8, n, ${cols.join(", ")}) order by t)::text as points
    from (
      select k, date_bin(make_interval(secs => $4), bucket, $2::timestamptz) as t, sum(n)::int as n, ${aggregates(defs)}
      from (${source(plan, scope, defs)}) r group by k, t
    ) b group by k`;
  const rows = await database.query<{ k: number; points: string }>(text, [
    keys,
    plan.since.toISOString(),
    plan.until.toISOString(),
    plan.stepSeconds,
  ]);
  const out = new Map<number, Series>();
  for (const row of rows) {
    const points = JSON.parse(row.points) as (number | null)[][];
    const s: Series = { ts: [], samples: [], metrics: {} };
    const aggs = defs.map((d): Aggregates => (s.metrics[d.name] = { min: [], avg: [], max: [] }));
    for (const p of points) {
      s.ts.push(new Date(p[0]! * 1000).toISOString());
      s.samples.push(p[1]!);
      for (let i = 0; i < aggs.length; i++) {
        aggs[i]!.min.push(num(p[2 + i * 3]));
        aggs[i]!.avg.push(num(p[3 + i * 3]));
        aggs[i]!.max.push(num(p[4 + i * 3]));
      }
    }
    out.set(Number(row.k), s);
  }
  return out;
}

/** Averages come back as float8; rounded to 4 decimals, which no metric here needs more of. */
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 1e4) / 1e4);

export interface SeriesResult {
  gpus: GpuSeries[];
  host: Series | null;
}

export async function querySeries(
  database: Database,
  workerId: number,
  gpus: readonly GpuRef[],
  metrics: MetricSelection,
  plan: Plan,
): Promise<SeriesResult> {
  const empty = (defs: readonly MetricDef[]): Series => ({
    ts: [],
    samples: [],
    metrics: Object.fromEntries(defs.map((d) => [d.name, { min: [], avg: [], max: [] }])),
  });
  const gpuRows =
    gpus.length && metrics.gpu.length
      ? await binned(
          database,
          plan,
          "gpu",
          gpus.map((g) => g.id),
          metrics.gpu,
        )
      : new Map<number, Series>();
  const hostRows = metrics.host.length ? await binned(database, plan, "host", [workerId], metrics.host) : undefined;
  return {
    gpus: metrics.gpu.length
      ? gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, ...(gpuRows.get(g.id) ?? empty(metrics.gpu)) }))
      : [],
    host: hostRows ? (hostRows.get(workerId) ?? empty(metrics.host)) : null,
  };
}
