// HTML pages of the fleet: GET / renders every worker's card with JSX and Pico; the same regions then stream over SSE.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { FleetPage } from "../../views/pages/fleet.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";
import { RenderContext } from "../live/views.ts";
import { fleetStatus } from "../live/regions/fleet-status.tsx";
import { fleetCardData, fleetQueryOf, fleetViewName, freeGpuSummary } from "../live/regions/fleet-cards.tsx";

export function pageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "pages" }).use(guard(ctx)).get(
    "/",
    async ({ principal, request }) => {
      const url = new URL(request.url);
      const query = fleetQueryOf({ q: url.searchParams.get("q"), sort: url.searchParams.get("sort") });
      // The live regions' own data path, so the first paint and the view's stream show the same thing.
      const rc = new RenderContext(ctx);
      const [cards, free, status] = await Promise.all([fleetCardData(rc), freeGpuSummary(rc), fleetStatus(rc)]);
      const viewer = { ...viewerOf(principal), fleetStatus: status, live: fleetViewName(query) };
      return htmlPage(<FleetPage cards={cards} free={free} query={query} engine={ctx.database.engine} viewer={viewer} now={rc.now} />);
    },
    { access: "viewer", detail: hidden() },
  );
}
