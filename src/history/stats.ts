// Summary statistics over a range (min / max / avg / p95 per metric) for each GPU and the host, from the finest tier that holds the range.
import type { Database } from "../db/client.ts";
import type { Retention } from "../retention/prune.ts";
import type { MetricDef } from "./catalogue.ts";
import type { GpuRef, MetricSelection } from "./params.ts";
import { retentionOfTier, TIERS, type Tier, type TierName } from "./tiers.ts";

export interface MetricStats {
  min: number | null;
  max: number | null;
  avg: number | null;
  p95: number | null;
  /** Samples behind the figures (rows with a value). */
  samples: number;
}

export interface StatsResult {
  tier: TierName;
  /** What p95 is the 95th percentile of: raw samples, or the averages of the tier's rows. */
  p95Of: string;
  gpus: { index: number; uuid: string; name: string; metrics: Record<string, MetricStats> }[];
  host: { metrics: Record<string, MetricStats> } | null;
}

const q = (name: string) => `"${name}"`;

/** Raw samples while they are kept (exact p95); past that, the finest rollup still holding `since`. */
export function statsTier(since: Date, retention: Retention, now: Date): Tier {
  for (const t of ["raw", "1m", "1h"] as const) {
    if (since.getTime() >= now.getTime() - retentionOfTier(t, retention) * 1000) return TIERS[t];
  }
  return TIERS["1h"];
}

/** Each figure named s<i>_<what>: unnamed aggregates would share a column name and overwrite each other in the row object. */
function selectList(tier: Tier, defs: readonly MetricDef[]): string {
  return defs
    .map((d, i) => {
      const as = (what: string) => q(`s${i}_${what}`);
      if (tier.name === "raw") {
        const c = q(d.column);
        return `min(${c})::float8 as ${as("min")}, max(${c})::float8 as ${as("max")}, avg(${c})::float8 as ${as("avg")},
          percentile_cont(0.95) within group (order by ${c}) as ${as("p95")}, count(${c})::int as ${as("n")}`;
      }
      const [mn, av, mx] = ["min", "avg", "max"].map((a) => q(`${d.column}_${a}`));
      return `min(${mn})::float8 as ${as("min")}, max(${mx})::float8 as ${as("max")},
        (sum(${av} * n) / nullif(sum(n) filter (where ${av} is not null), 0))::float8 as ${as("avg")},
        percentile_cont(0.95) within group (order by ${av}) as ${as("p95")},
        coalesce(sum(n) filter (where ${av} is not null), 0)::int as ${as("n")}`;
    })
    .join(",\n ");
}

const round = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 1e4) / 1e4);

async function statsOf(
  database: Database,
  tier: Tier,
  scope: "gpu" | "host",
  keys: number[],
  defs: readonly MetricDef[],
  since: Date,
  until: Date,
) {
  const key = scope === "gpu" ? "gpu_id" : "worker_id";
  const table = scope === "gpu" ? tier.gpuTable : tier.hostTable;
  const col = tier.timeColumn;
  const rows = await database.query<Record<string, unknown>>(
    `select ${key} as k, ${selectList(tier, defs)} from ${table}
      where ${key} = any($1::int[]) and ${col} >= $2 and ${col} < $3 group by ${key}`,
    [keys, since.toISOString(), until.toISOString()],
  );
  const out = new Map<number, Record<string, MetricStats>>();
  for (const row of rows) {
    out.set(
      Number(row.k),
      Object.fromEntries(
        defs.map((d, i) => [
          d.name,
          {
            min: round(row[`s${i}_min`]),
            max: round(row[`s${i}_max`]),
            avg: round(row[`s${i}_avg`]),
            p95: round(row[`s${i}_p95`]),
            samples: Number(row[`s${i}_n`] ?? 0),
          },
        ]),
      ),
    );
  }
  return out;
}

const none = (defs: readonly MetricDef[]): Record<string, MetricStats> =>
  Object.fromEntries(defs.map((d) => [d.name, { min: null, max: null, avg: null, p95: null, samples: 0 }]));

export async function queryStats(
  database: Database,
  workerId: number,
  gpus: readonly GpuRef[],
  metrics: MetricSelection,
  range: { since: Date; until: Date },
  tier: Tier,
): Promise<StatsResult> {
  const g =
    gpus.length && metrics.gpu.length
      ? await statsOf(
          database,
          tier,
          "gpu",
          gpus.map((x) => x.id),
          metrics.gpu,
          range.since,
          range.until,
        )
      : new Map<number, Record<string, MetricStats>>();
  const h = metrics.host.length ? await statsOf(database, tier, "host", [workerId], metrics.host, range.since, range.until) : undefined;
  return {
    tier: tier.name,
    p95Of: tier.name === "raw" ? "samples" : tier.name === "1m" ? "1-minute averages" : "1-hour averages",
    gpus: metrics.gpu.length
      ? gpus.map((x) => ({ index: x.index, uuid: x.uuid, name: x.name, metrics: g.get(x.id) ?? none(metrics.gpu) }))
      : [],
    host: h ? { metrics: h.get(workerId) ?? none(metrics.host) } : null,
  };
}
