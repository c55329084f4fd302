// HTML pages: GET / renders the fleet with JSX and Pico.
import { Elysia } from "elysia";
import { html } from "@elysiajs/html";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { FleetPage } from "../../views/pages/fleet.tsx";

export function pageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "pages" }).use(html()).get("/", async ({ set }) => {
    const workers = await listWorkers(ctx.database.db, ctx.latest.heardAt);
    const rows = workers.map((worker) => ({ worker, sample: ctx.latest.get(worker.id)?.sample ?? null }));
    set.headers["content-type"] = "text/html; charset=utf-8";
    return <FleetPage rows={rows} engine={ctx.database.engine} />;
  });
}
