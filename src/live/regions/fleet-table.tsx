// Region: the fleet table of the fleet page, one row per worker (values with every sample, "last seen" with the clock).
import Html from "@kitajs/html";
import { FleetTable, type FleetRow } from "../../../views/partials/fleet-table.tsx";
import type { Region, RenderContext } from "../views.ts";

/** The table's rows as of the render context's time; the page route's first paint uses this too. */
export async function fleetRows(rc: RenderContext): Promise<FleetRow[]> {
  return (await rc.workers()).map((worker) => ({ worker, sample: rc.head.latest.get(worker.id)?.sample ?? null }));
}

export const fleetTableRegion: Region = {
  // FleetTable's outermost element (the figure, or the empty-fleet article) has this id.
  id: "fleet",
  on: ["sample", "workers", "clock"],
  render: async (rc) => <FleetTable rows={await fleetRows(rc)} now={rc.now} />,
};
