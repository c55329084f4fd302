// The storage tiers of history (raw, 1-minute, 1-hour) and the choice of the one that answers a range within a number of points.
import type { Retention } from "../retention/prune.ts";

export type TierName = "raw" | "1m" | "1h";

export interface Tier {
  name: TierName;
  /** Width of one stored row; raw rows are counted at one second (the finest interval agents use by default). */
  resolutionSeconds: number;
  gpuTable: string;
  hostTable: string;
  /** The column holding each row's time. */
  timeColumn: string;
}

export const TIERS: Record<TierName, Tier> = {
  raw: { name: "raw", resolutionSeconds: 1, gpuTable: "gpu_samples", hostTable: "host_samples", timeColumn: "ts" },
  "1m": { name: "1m", resolutionSeconds: 60, gpuTable: "gpu_rollup_1m", hostTable: "host_rollup_1m", timeColumn: "bucket" },
  "1h": { name: "1h", resolutionSeconds: 3600, gpuTable: "gpu_rollup_1h", hostTable: "host_rollup_1h", timeColumn: "bucket" },
};

const ORDER: TierName[] = ["raw", "1m", "1h"];

export function retentionOfTier(name: TierName, r: Retention): number {
  return name === "raw" ? r.raw : name === "1m" ? r.minute : r.hour;
}

export interface Plan {
  tier: Tier;
  /** Width of each returned point: a whole multiple of the tier's resolution. */
  stepSeconds: number;
  /** `since` moved back to the tier's grid, so every point covers whole stored rows. */
  since: Date;
  until: Date;
}

/**
 * The coarsest tier whose rows are no wider than the points asked for (fewest rows read, no detail
 * lost), among those still holding `since`; when none of those reach back that far, the finest
 * tier that does. Points are then `stepSeconds` wide, so there are at most `points` of them.
 */
export function planQuery(since: Date, until: Date, points: number, retention: Retention, now: Date): Plan {
  const wanted = (until.getTime() - since.getTime()) / 1000 / points;
  const holds = (t: TierName) => since.getTime() >= now.getTime() - retentionOfTier(t, retention) * 1000;
  const fineEnough = ORDER.filter((t) => TIERS[t].resolutionSeconds <= Math.max(wanted, 1));
  const pick = [...fineEnough].reverse().find(holds) ?? ORDER.find((t) => !fineEnough.includes(t) && holds(t)) ?? "1h";
  const tier = TIERS[pick];
  const res = tier.resolutionSeconds;
  const alignedMs = Math.floor(since.getTime() / 1000 / res) * res * 1000;
  const span = (until.getTime() - alignedMs) / 1000;
  const stepSeconds = Math.max(res, Math.ceil(span / points / res) * res);
  return { tier, stepSeconds, since: new Date(alignedMs), until };
}
