// The live views by name, each with its regions: adding a region to a page is one line here (see src/live/views.ts).
import { alertsRegions, alertsView } from "./regions/alerts.tsx";
import { fleetStatusRegion } from "./regions/fleet-status.tsx";
import { healthListRegions, healthView, serviceRegions } from "./regions/health.tsx";
import { fleetCardsRegion, fleetView, freeGpusRegion } from "./regions/fleet-cards.tsx";
import { workerPageView, workerRegions } from "./regions/worker.tsx";
import type { ViewRegions } from "./views.ts";

/** Explicit imports: `bun build --compile` bundles only what is imported. Every view carries the nav bar's fleet status. */
export const VIEWS: Readonly<Record<string, ViewRegions>> = {
  fleet: fleetView((query) => [fleetStatusRegion, freeGpusRegion, fleetCardsRegion(query)]),
  worker: workerPageView((workerId, gpu) => [fleetStatusRegion, ...workerRegions(workerId, gpu)]),
  alerts: alertsView((admin, filter) => [fleetStatusRegion, ...alertsRegions(admin, filter)]),
  health: healthView((v) => [fleetStatusRegion, ...(v.page === "list" ? healthListRegions(v.admin) : serviceRegions(v.serviceId, v.days))]),
};
