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
      return `min(${mn}), sum(${av} * n) / nullif(sum(n) filter (where ${av} is not null), 0), max(${mx})`;
    })
    .join(", ");
}

/** Binned series per key (GPU row id or worker id), in time order. */
async function binned(database: Database, plan: Plan, scope: "gpu" | "host", keys: number[], defs: readonly MetricDef[]) {
  const text = `select k, date_bin(make_interval(secs => $4), bucket, $2::timestamptz) as t, sum(n)::int as n, ${aggregates(defs)}
    from (${source(plan, scope, defs)}) r group by k, t order by k, t`;
  const rows = await database.query<Record<string, unknown>>(text, [
    keys,
    plan.since.toISOString(),
    plan.until.toISOString(),
    plan.stepSeconds,
  ]);
  const out = new Map<number, Series>();
  for (const row of rows) {
    const values = Object.values(row);
    const k = Number(values[0]);
    let s = out.get(k);
    if (!s) {
      s = { ts: [], samples: [], metrics: Object.fromEntries(defs.map((d) => [d.name, { min: [], avg: [], max: [] }])) };
      out.set(k, s);
    }
    s.ts.push(new Date(values[1] as string | Date).toISOString());
    s.samples.push(Number(values[2]));
    defs.forEach((d, i) => {
      const m = s!.metrics[d.name]!;
      m.min.push(num(values[3 + i * 3]));
      m.avg.push(num(values[4 + i * 3]));
      m.max.push(num(values[5 + i * 3]));
    });
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
