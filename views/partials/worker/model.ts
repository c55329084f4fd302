// What the worker page's regions render from, and the small pure helpers they share (GPU selection, percents, times).
import type { Thresholds } from "../../../src/alerts/thresholds.ts";
import type { GpuRecord } from "../../../src/fleet/gpus.ts";
import type { RestartRow } from "../../../src/fleet/restarts.ts";
import type { WorkerSummary } from "../../../src/fleet/workers.ts";
import type { GpuVitals, Sample } from "../../../src/protocol/sample.ts";
import { NA } from "../../components/format.ts";

/** Which GPU the page shows: one by index, all of them side by side (`?gpu=all`), or none (the worker has no GPU). */
export type GpuSelection = { kind: "one"; index: number } | { kind: "all" } | { kind: "none" };

/**
 * Everything a live region of the worker page is a pure function of. The SSE view of a worker page renders the same
 * components from the same props, so `selection` travels with the page's stream (`?gpu=` of the page).
 */
export interface WorkerRegionProps {
  worker: WorkerSummary;
  /** The newest sample (null before the first one). */
  sample: Sample | null;
  /** The worker's registered GPUs (static facts; known even while the worker is offline). */
  gpus: readonly GpuRecord[];
  restarts: readonly RestartRow[];
  thresholds: Thresholds;
  now: number;
  selection: GpuSelection;
}

/** A GPU the selector offers: from the latest sample when there is one, else from the registered GPUs. */
export interface GpuChoice {
  index: number;
  name: string;
  uuid: string;
}

export function gpuChoices(sample: Sample | null, gpus: readonly GpuRecord[]): GpuChoice[] {
  const src = sample && sample.gpus.length > 0 ? sample.gpus : gpus;
  return [...src].map((g) => ({ index: g.index, name: g.name, uuid: g.uuid })).sort((a, b) => a.index - b.index);
}

/**
 * `?gpu=` of the page: a GPU index, or `all` for the compare view. A missing value picks the first GPU; one that names
 * no GPU of this worker picks the first too, and says so (a bookmark may outlive a GPU).
 */
export function resolveSelection(
  raw: string | null | undefined,
  choices: readonly GpuChoice[],
): { selection: GpuSelection; problem?: string } {
  if (choices.length === 0) return { selection: { kind: "none" } };
  const first: GpuSelection = { kind: "one", index: choices[0]!.index };
  const v = (raw ?? "").trim();
  if (v === "") return { selection: first };
  if (v === "all") return { selection: { kind: "all" } };
  if (/^\d{1,4}$/.test(v) && choices.some((c) => c.index === Number(v))) return { selection: { kind: "one", index: Number(v) } };
  return { selection: first, problem: `This worker has no GPU "${v.slice(0, 40)}"; showing GPU ${choices[0]!.index}.` };
}

/** The GPUs the selection shows, each with its latest vitals (undefined while the worker has sent no sample). */
export function shownGpus(
  p: Pick<WorkerRegionProps, "sample" | "gpus" | "selection">,
): { choice: GpuChoice; vitals?: GpuVitals; record?: GpuRecord }[] {
  const choices = gpuChoices(p.sample, p.gpus);
  const picked =
    p.selection.kind === "all"
      ? choices
      : p.selection.kind === "one"
        ? choices.filter((c) => c.index === (p.selection as { index: number }).index)
        : [];
  return picked.map((choice) => ({
    choice,
    vitals: p.sample?.gpus.find((g) => g.index === choice.index),
    record: p.gpus.find((g) => g.index === choice.index),
  }));
}

/** used / total as a percent; null when either is unknown or the total is 0 (no such resource). */
export function percentOf(used: number | null | undefined, total: number | null | undefined): number | null {
  if (used === null || used === undefined || total === null || total === undefined || total <= 0) return null;
  return (used / total) * 100;
}

export const MIB = 1024 * 1024;

/** MiB (how GPUs report memory) as bytes for formatBytes; null stays null. */
export function mibToBytes(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : v * MIB;
}

/** A number with its unit, or N/A: `num(612.5, "W")` is "612.5 W", `num(null, "W")` is "N/A". */
export function num(v: number | null | undefined, unit = "", digits = 0): string {
  if (v === null || v === undefined || Number.isNaN(v)) return NA;
  const s = v.toFixed(digits);
  return unit ? `${s} ${unit}` : s;
}

/** A byte rate: "12.0 MiB/s". */
export function rate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined) return NA;
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let v = bps;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/**
 * A time as the server can honestly write it: UTC, to the second ("2026-11-23 10:00:01 UTC"). The server does not
 * know the reader's zone; `<time datetime>` carries the exact instant for anything that does.
 */
export function formatTime(iso: string | Date | null | undefined): string {
  if (!iso) return NA;
  const d = typeof iso === "string" ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return NA;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The worker's figures are a snapshot, not live, unless it is online: regions say so instead of looking current. */
export function isLive(worker: WorkerSummary): boolean {
  return worker.status === "online";
}
