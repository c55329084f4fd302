// JSON API for the fleet: workers, one worker in detail, the latest sample of each, and the GPUs free right now.
import { Elysia } from "elysia";
import { listWorkers } from "../fleet/workers.ts";
import { freeGpus, workerGpus } from "../fleet/gpus.ts";
import { listRestarts } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";

export function fleetApiRoutes(ctx: HeadContext) {
  return new Elysia({ name: "api-fleet", prefix: "/api/v1" })
    .use(guard(ctx))
    .get("/workers", async () => ({ workers: await listWorkers(ctx.database.db, ctx.latest.heardAt) }), { access: "viewer" })
    .get(
      "/workers/:id",
      async ({ params, set }) => {
        const worker = (await listWorkers(ctx.database.db, ctx.latest.heardAt)).find((w) => String(w.id) === params.id);
        if (!worker) {
          set.status = 404;
          return { error: `no worker with id ${params.id}` };
        }
        const latest = ctx.latest.get(worker.id);
        return {
          worker,
          connected: ctx.sessions.connected(worker.id),
          gpus: await workerGpus(ctx.database.db, worker.id),
          latest: latest ? { receivedAt: latest.receivedAt.toISOString(), sample: latest.sample } : null,
          restarts: await listRestarts(ctx.database.db, worker.id, 10),
        };
      },
      { access: "viewer" },
    )
    .get(
      "/gpus/free",
      async () => ({ gpus: freeGpus(await listWorkers(ctx.database.db, ctx.latest.heardAt), (id) => ctx.latest.get(id)) }),
      { access: "viewer" },
    )
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
