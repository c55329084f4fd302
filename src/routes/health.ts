// GET /healthz: liveness for load balancers and `make deploy`, open to all (status, version, database engine).
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { VERSION } from "../version.ts";

const DB_PROBE_TIMEOUT_MS = 2_000;

export function healthRoutes(ctx: HeadContext) {
  return new Elysia({ name: "health" }).use(guard(ctx)).get(
    "/healthz",
    async ({ set }) => {
      const started = performance.now();
      let dbOk = false;
      let dbError: string | undefined;
      try {
        await Promise.race([
          ctx.database.query("select 1"),
          Bun.sleep(DB_PROBE_TIMEOUT_MS).then(() => {
            throw new Error(`no answer within ${DB_PROBE_TIMEOUT_MS} ms`);
          }),
        ]);
        dbOk = true;
      } catch (err) {
        dbError = (err as Error).message;
      }
      if (!dbOk) set.status = 503;
      return {
        status: dbOk ? "ok" : "unavailable",
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
        database: {
          engine: ctx.database.engine,
          ok: dbOk,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
          ...(dbError ? { error: dbError } : {}),
        },
        writer: { queued: ctx.writer.queued },
      };
    },
    { access: "public" },
  );
}
