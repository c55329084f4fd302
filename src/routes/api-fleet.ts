// JSON API for the fleet: GET /api/v1/workers and GET /api/v1/metrics/current.
import { Elysia } from "elysia";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";

export function fleetApiRoutes(ctx: HeadContext) {
  return new Elysia({ name: "api-fleet", prefix: "/api/v1" })
    .use(guard(ctx))
    .get("/workers", async () => ({ workers: await listWorkers(ctx.database.db, ctx.latest.heardAt) }), { access: "viewer" })
    .get(
      "/metrics/current",
      async () => {
        const workers = await listWorkers(ctx.database.db, ctx.latest.heardAt);
        return {
          workers: workers.map((w) => {
            const latest = ctx.latest.get(w.id);
            return {
              id: w.id,
              name: w.name,
              status: w.status,
              lastSeenAt: w.lastSeenAt,
              receivedAt: latest?.receivedAt.toISOString() ?? null,
              sample: latest?.sample ?? null,
            };
          }),
        };
      },
      { access: "viewer" },
    );
}
