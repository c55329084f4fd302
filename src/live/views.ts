// Live views and regions: a view is a page (`fleet`, `worker:<id>`), a region one swappable piece of it, rendered by the page's own JSX component.
//
// Adding a region (see src/live/regions/ for the two that exist):
//   1. Write the partial component in views/partials/ as usual; its outermost element carries the region's DOM id.
//   2. Add src/live/regions/<name>.tsx exporting a Region: { id, on: topics that make it stale, render(rc) }, where
//      render calls the same component the page uses, with data read through `rc` (so page and stream agree).
//   3. Add it to its view's list in src/live/registry.ts: one line.
// The page route renders the component itself for the first paint; the stream sends it again whenever its HTML changes.
import type { HeadContext } from "../head/context.ts";
import { listWorkers, type WorkerSummary } from "../fleet/workers.ts";
import type { Topic } from "./bus.ts";

/**
 * What a region's render reads, shared by every region rendered in the same tick: the worker list is
 * read from the database at most once per tick, however many views and regions ask. Page routes build
 * one too, so the first paint reads exactly what the stream later reads.
 */
export class RenderContext {
  private workerList?: Promise<WorkerSummary[]>;
  /** Renders of this tick by region: a region shared by several views (the nav status) is rendered once. */
  readonly rendered = new Map<Region, Promise<string>>();

  constructor(
    readonly head: HeadContext,
    readonly now: number = Date.now(),
  ) {}

  /** Every worker with its status as of `now` (the latest-state cache counts as heard, like the API). */
  workers(): Promise<WorkerSummary[]> {
    this.workerList ??= listWorkers(this.head.database.db, this.head.latest.heardAt, this.now);
    return this.workerList;
  }
}

/** What else makes a region stale: "clock" re-renders it every tick (relative times such as "3s ago"); unchanged HTML is still not sent. */
export type Trigger = Topic | "clock";

export interface Region {
  /** DOM id of the region's outermost element; the stream morphs that element into the new render, so the render must keep the id. */
  id: string;
  on: readonly Trigger[];
  /** Only events about this worker make it stale (worker pages); absent: events about any worker. */
  workerId?: number;
  render(rc: RenderContext): JSX.Element;
}

/** A view's regions from the part of its name after the colon (undefined for "fleet"); undefined when that names nothing. */
export type ViewRegions = (param: string | undefined) => readonly Region[] | undefined;

/** A view without a parameter: "fleet". */
export function plainView(regions: () => readonly Region[]): ViewRegions {
  return (param) => (param === undefined ? regions() : undefined);
}

/** A view of one worker: "worker:<id>" with a positive integer id. Whether the worker exists is the regions' business. */
export function workerView(regions: (workerId: number) => readonly Region[]): ViewRegions {
  return (param) => (param !== undefined && /^[1-9]\d{0,9}$/.test(param) ? regions(Number(param)) : undefined);
}

/** A DOM id that is also a plain CSS id selector, so `hx-target="#id"` needs no escaping. */
const REGION_ID = /^[A-Za-z][\w-]{0,63}$/;
const MAX_VIEW_NAME = 100;

export class UnknownView extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown view ${JSON.stringify(name.slice(0, MAX_VIEW_NAME))}; views: ${known.join(", ")}`);
    this.name = "UnknownView";
  }
}

/** The regions of a view named like "fleet" or "worker:7"; throws UnknownView for anything else. */
export function resolveView(views: Readonly<Record<string, ViewRegions>>, name: string): readonly Region[] {
  const colon = name.indexOf(":");
  const base = colon < 0 ? name : name.slice(0, colon);
  const param = colon < 0 ? undefined : name.slice(colon + 1);
  // hasOwn: "constructor" or "__proto__" must not reach Object.prototype.
  const regions = name.length <= MAX_VIEW_NAME && Object.hasOwn(views, base) ? views[base]!(param) : undefined;
  if (!regions)
    throw new UnknownView(
      name,
      Object.keys(views).map((v) => (views[v]!(undefined) ? v : `${v}:<id>`)),
    );
  checkRegions(name, regions);
  return regions;
}

/** A mistake in the registry (a duplicate or unusable id) fails loudly, in the first test that opens the view. */
export function checkRegions(view: string, regions: readonly Region[]): void {
  const seen = new Set<string>();
  for (const r of regions) {
    if (!REGION_ID.test(r.id)) throw new Error(`view ${view}: region id ${JSON.stringify(r.id)} is not a plain DOM id`);
    if (seen.has(r.id)) throw new Error(`view ${view}: two regions with id ${r.id}`);
    seen.add(r.id);
  }
}

/** Whether the event makes the region stale. */
export function dirties(region: Region, event: { topic: Topic; workerId?: number; workerIds?: number[] }): boolean {
  if (!region.on.includes(event.topic)) return false;
  if (region.workerId === undefined) return true;
  if (event.workerId !== undefined) return event.workerId === region.workerId;
  return event.workerIds?.includes(region.workerId) ?? true;
}
