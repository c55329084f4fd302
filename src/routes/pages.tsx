// HTML pages of the fleet: GET / renders every worker with JSX and Pico.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { FleetPage } from "../../views/pages/fleet.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";
import { RenderContext } from "../live/views.ts";
import { fleetRows } from "../live/regions/fleet-table.tsx";
import { fleetStatus } from "../live/regions/fleet-status.tsx";

export function pageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "pages" }).use(guard(ctx)).get(
    "/",
    async ({ principal }) => {
      // The live regions' own data path, so the first paint and the "fleet" view's stream show the same thing.
      const rc = new RenderContext(ctx);
      const [rows, status] = await Promise.all([fleetRows(rc), fleetStatus(rc)]);
      const viewer = { ...viewerOf(principal), fleetStatus: status, live: "fleet" };
      return htmlPage(<FleetPage rows={rows} engine={ctx.database.engine} viewer={viewer} />);
    },
    { access: "viewer", detail: hidden() },
  );
}
