// The fleet at a glance in the navigation bar ("12 workers · 10 online · 37/96 GPUs busy"), a live region on every page that shows it.
import Html from "@kitajs/html";
import { freeGpus } from "../../src/fleet/gpus.ts";
import type { WorkerSummary } from "../../src/fleet/workers.ts";
import type { LatestEntry } from "../../src/ingest/latest.ts";

export interface FleetStatusSummary {
  workers: number;
  online: number;
  /** Stale and offline together: workers whose numbers are not live. */
  unreachable: number;
  /** GPUs of online workers that are not free by the free-GPU rule (compute running or memory held). */
  gpusBusy: number;
  /** GPUs in the latest samples of online workers, lost ones left out: what could take a job if idle. */
  gpusTotal: number;
}

export function fleetStatusOf(workers: WorkerSummary[], latest: (workerId: number) => LatestEntry | undefined): FleetStatusSummary {
  let online = 0;
  let unreachable = 0;
  let gpusTotal = 0;
  for (const w of workers) {
    if (w.status === "online") {
      online++;
      gpusTotal += latest(w.id)?.sample.gpus.filter((g) => !g.lost).length ?? 0;
    } else if (w.status === "stale" || w.status === "offline") unreachable++;
  }
  return { workers: workers.length, online, unreachable, gpusBusy: gpusTotal - freeGpus(workers, latest).length, gpusTotal };
}

/** The DOM id the SSE region swaps; the element must keep it (the stream morphs it). */
export const FLEET_STATUS_ID = "fleet-status";

export function FleetStatus(props: { status: FleetStatusSummary }): JSX.Element {
  const s = props.status;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return (
    <li id={FLEET_STATUS_ID} class="fleet-status">
      <a href="/" class="secondary" title="Workers online and GPUs busy across the fleet">
        <span safe>{plural(s.workers, "worker")}</span>
        {" · "}
        <span class="status-online" safe>{`${s.online} online`}</span>
        {s.unreachable > 0 ? (
          <>
            {" · "}
            <span class="status-offline" safe>{`${s.unreachable} unreachable`}</span>
          </>
        ) : (
          ""
        )}
        {" · "}
        <span safe>{`${s.gpusBusy}/${s.gpusTotal} GPUs busy`}</span>
      </a>
    </li>
  );
}
