// Regions of the fleet page: the worker cards (filtered and sorted as the page's view name says) and the "free GPUs now" summary.
import { dashboardThresholds } from "../../alerts/thresholds.ts";
import Html from "@kitajs/html";
import type { OpenAlert } from "../../alerts/evaluate.ts";
import { freeGpus } from "../../fleet/gpus.ts";
import { FleetCards, FreeGpus, type FleetQuery, type FleetSort } from "../../../views/partials/fleet-cards.tsx";
import type { CardData } from "../../../views/partials/worker-card.tsx";
import type { Region, RenderContext, ViewRegions } from "../views.ts";

const SORTS: readonly FleetSort[] = ["name", "load", "status"];
export const MAX_FILTER = 60;

/** The page's filter from its URL (?q=&sort=): bad values fall back to the defaults, as a form field would. */
export function fleetQueryOf(raw: { q?: string | null; sort?: string | null }): FleetQuery {
  const sort = SORTS.includes(raw.sort as FleetSort) ? (raw.sort as FleetSort) : "name";
  return { q: (raw.q ?? "").trim().slice(0, MAX_FILTER), sort };
}

/** The live view streaming that filter: "fleet", or "fleet:<sort>:<filter>" when it is not the default. */
export function fleetViewName(q: FleetQuery): string {
  return q.q === "" && q.sort === "name" ? "fleet" : `fleet:${q.sort}:${q.q}`;
}

/** Each worker's firing alerts: how many, and the worst severity (from the engine's memory, no query). */
function firingByWorker(open: readonly OpenAlert[]): Map<number, NonNullable<CardData["firing"]>> {
  const out = new Map<number, NonNullable<CardData["firing"]>>();
  for (const a of open) {
    if (a.state !== "firing" || a.workerId === null) continue;
    const f = out.get(a.workerId);
    out.set(a.workerId, {
      count: (f?.count ?? 0) + 1,
      severity: f?.severity === "critical" || a.severity === "critical" ? "critical" : "warning",
    });
  }
  return out;
}

/** Every worker as a card's data, as of the render context's time. */
export async function fleetCardData(rc: RenderContext): Promise<CardData[]> {
  const firing = firingByWorker(rc.head.alerts.list());
  return (await rc.workers()).map((worker) => {
    const sample = rc.head.latest.get(worker.id)?.sample ?? null;
    return {
      worker,
      sample,
      recent: rc.head.latest.recent(worker.id),
      // `vigil simulate` marks its samples; the head keeps whatever a sample says about itself as data.
      simulated: sample?.host.simulated === true,
      firing: firing.get(worker.id),
      thresholds: dashboardThresholds(rc.head.alerts.rules, worker.id),
    };
  });
}

export function fleetCardsRegion(query: FleetQuery): Region {
  return {
    // FleetCards' outermost element carries this id.
    id: "fleet",
    on: ["sample", "workers", "alerts", "clock"],
    render: async (rc) => <FleetCards cards={await fleetCardData(rc)} query={query} now={rc.now} />,
  };
}

export async function freeGpuSummary(rc: RenderContext) {
  const workers = await rc.workers();
  return {
    gpus: freeGpus(workers, (id) => rc.head.latest.get(id)),
    total: workers.filter((w) => w.status === "online").reduce((n, w) => n + w.gpuCount, 0),
  };
}

export const freeGpusRegion: Region = {
  id: "free-gpus",
  on: ["sample", "workers"],
  render: async (rc) => {
    const s = await freeGpuSummary(rc);
    return <FreeGpus gpus={s.gpus} total={s.total} />;
  },
};

/** "fleet" or "fleet:<sort>:<filter>" (see fleetViewName). */
export function fleetView(regions: (q: FleetQuery) => readonly Region[]): ViewRegions {
  return (param) => {
    if (param === undefined) return regions(fleetQueryOf({}));
    const colon = param.indexOf(":");
    const sort = colon < 0 ? param : param.slice(0, colon);
    const q = colon < 0 ? "" : param.slice(colon + 1);
    if (!SORTS.includes(sort as FleetSort) || q.length > MAX_FILTER) return undefined;
    return regions({ sort: sort as FleetSort, q });
  };
}
