// Region: the navigation bar's fleet status, on every view (counts change with samples and with workers coming and going).
import Html from "@kitajs/html";
import { FLEET_STATUS_ID, FleetStatus, fleetStatusOf, type FleetStatusSummary } from "../../../views/partials/fleet-status.tsx";
import type { Region, RenderContext } from "../views.ts";

/** What the page route passes to the layout for the first paint: the same numbers the stream sends later. */
export async function fleetStatus(rc: RenderContext): Promise<FleetStatusSummary> {
  return fleetStatusOf(await rc.workers(), (id) => rc.head.latest.get(id));
}

export const fleetStatusRegion: Region = {
  id: FLEET_STATUS_ID,
  on: ["sample", "workers"],
  render: async (rc) => <FleetStatus status={await fleetStatus(rc)} />,
};
