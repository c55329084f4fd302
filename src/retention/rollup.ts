// Incremental rollups: turns the minutes and hours the writer marked into 1-minute and 1-hour min / avg / max rows.
import type { Database } from "../db/client.ts";
import { GPU_METRICS, HOST_METRICS, type MetricDef } from "../history/catalogue.ts";

/** Buckets taken per statement: bounds how long one rollup statement holds the (single) PGlite connection. */
export const ROLLUP_BATCH = 200;

const q = (name: string) => `"${name}"`;

/** SELECT list of min / avg / max from raw samples (each sample counts once). */
function fromRaw(defs: readonly MetricDef[], alias: string): string {
  return defs
    .map((d) => {
      const c = `${alias}.${q(d.column)}`;
      return `min(${c})::float4, avg(${c})::float4, max(${c})::float4`;
    })
    .join(",\n      ");
}

/** SELECT list of min / weighted avg / max from finer rollup rows (weights: the samples each summarises). */
function fromRollup(defs: readonly MetricDef[], alias: string): string {
  return defs
    .map((d) => {
      const [mn, av, mx] = ["min", "avg", "max"].map((a) => `${alias}.${q(`${d.column}_${a}`)}`);
      return `min(${mn}), (sum(${av} * ${alias}.n) / nullif(sum(${alias}.n) filter (where ${av} is not null), 0))::float4, max(${mx})`;
    })
    .join(",\n      ");
}

function columnList(defs: readonly MetricDef[]): string {
  return defs.flatMap((d) => ["min", "avg", "max"].map((a) => q(`${d.column}_${a}`))).join(", ");
}

/**
 * A recomputed bucket replaces the stored one only when it summarises at least as many samples:
 * a late sample for a minute whose other samples were already pruned must not shrink its rollup.
 */
function upsert(table: string, key: string, defs: readonly MetricDef[], extra: string[]): string {
  const sets = [...extra, "n", ...defs.flatMap((d) => ["min", "avg", "max"].map((a) => `${d.column}_${a}`))]
    .map((c) => `${q(c)} = excluded.${q(c)}`)
    .join(", ");
  return `on conflict (${key}) do update set ${sets} where excluded.n >= ${q(table)}.n`;
}

/** One tier step: where its rows come from, and what it marks next. */
interface Step {
  tier: "1m" | "1h";
  width: string;
  /** Source tables and their time column; raw samples count once, rollup rows by their n. */
  gpuFrom: string;
  hostFrom: string;
  time: string;
  n: string;
  aggregates: (defs: readonly MetricDef[], alias: string) => string;
  /** The coarser tier whose buckets this step's buckets fall in, marked in the same statement. */
  next?: { tier: "1h"; width: string };
}

/**
 * One statement per batch: take (delete) up to $1 marked buckets, recompute their GPU and host rows
 * from the finer data, and mark the coarser buckets they fall in.
 */
function stepSql(st: Step): string {
  const join = (from: string) =>
    `from taken p join ${from} r on r.worker_id = p.worker_id and r.${st.time} >= p.bucket and r.${st.time} < p.bucket + interval '${st.width}'`;
  const mark = st.next
    ? `,
marked as (
  insert into rollup_pending (tier, worker_id, bucket, marked_at)
  select distinct '${st.next.tier}', worker_id, date_bin('${st.next.width}', bucket, timestamptz '1970-01-01 00:00:00+00'), now() from taken
  on conflict (tier, worker_id, bucket) do update set marked_at = excluded.marked_at
  returning 1
)`
    : "";
  return `
with taken as (
  delete from rollup_pending
  where (tier, worker_id, bucket) in (
    select tier, worker_id, bucket from rollup_pending where tier = '${st.tier}' order by bucket limit $1 for update skip locked)
  returning worker_id, bucket
),
g as (
  insert into gpu_rollup_${st.tier} (gpu_id, bucket, worker_id, n, ${columnList(GPU_METRICS)})
  select r.gpu_id, p.bucket, r.worker_id, ${st.n},
      ${st.aggregates(GPU_METRICS, "r")}
  ${join(st.gpuFrom)}
  group by r.gpu_id, p.bucket, r.worker_id
  ${upsert(`gpu_rollup_${st.tier}`, "gpu_id, bucket", GPU_METRICS, ["worker_id"])}
  returning 1
),
h as (
  insert into host_rollup_${st.tier} (worker_id, bucket, n, ${columnList(HOST_METRICS)})
  select r.worker_id, p.bucket, ${st.n},
      ${st.aggregates(HOST_METRICS, "r")}
  ${join(st.hostFrom)}
  group by r.worker_id, p.bucket
  ${upsert(`host_rollup_${st.tier}`, "worker_id, bucket", HOST_METRICS, [])}
  returning 1
)${mark}
select (select count(*) from taken)::int as buckets, (select count(*) from g)::int as gpu_rows, (select count(*) from h)::int as host_rows`;
}

const MINUTES_SQL = stepSql({
  tier: "1m",
  width: "1 minute",
  gpuFrom: "gpu_samples",
  hostFrom: "host_samples",
  time: "ts",
  n: "count(*)::int",
  aggregates: fromRaw,
  next: { tier: "1h", width: "1 hour" },
});

const HOURS_SQL = stepSql({
  tier: "1h",
  width: "1 hour",
  gpuFrom: "gpu_rollup_1m",
  hostFrom: "host_rollup_1m",
  time: "bucket",
  n: "sum(r.n)::int",
  aggregates: fromRollup,
});

export interface RollupResult {
  minutes: number;
  hours: number;
  gpuRows: number;
  hostRows: number;
}

interface Counts {
  buckets: number;
  gpu_rows: number;
  host_rows: number;
}

/**
 * Computes every marked bucket: minutes first (which mark their hours), then hours. Each statement
 * takes at most ROLLUP_BATCH buckets, so ingestion gets the database between statements.
 */
export async function rollupPending(
  database: Database,
  opts: { batch?: number; yieldBetween?: () => Promise<void> } = {},
): Promise<RollupResult> {
  const batch = opts.batch ?? ROLLUP_BATCH;
  const pause = opts.yieldBetween ?? (() => new Promise<void>((r) => setImmediate(r)));
  const out: RollupResult = { minutes: 0, hours: 0, gpuRows: 0, hostRows: 0 };
  for (const [sqlText, key] of [
    [MINUTES_SQL, "minutes"],
    [HOURS_SQL, "hours"],
  ] as const) {
    for (;;) {
      const [r] = await database.query<Counts>(sqlText, [batch]);
      if (!r) break;
      out[key] += r.buckets;
      out.gpuRows += r.gpu_rows;
      out.hostRows += r.host_rows;
      if (r.buckets < batch) break;
      await pause();
    }
  }
  return out;
}
