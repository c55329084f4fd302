// HTML pages of the fleet: GET / renders every worker with JSX and Pico.
import { Elysia } from "elysia";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { FleetPage } from "../../views/pages/fleet.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

export function pageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "pages" }).use(guard(ctx)).get(
    "/",
    async ({ principal }) => {
      const workers = await listWorkers(ctx.database.db, ctx.latest.heardAt);
      const rows = workers.map((worker) => ({ worker, sample: ctx.latest.get(worker.id)?.sample ?? null }));
      return htmlPage(<FleetPage rows={rows} engine={ctx.database.engine} viewer={viewerOf(principal)} />);
    },
    { access: "viewer", detail: hidden() },
  );
}
