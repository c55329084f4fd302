// GET /healthz: liveness for load balancers and `make deploy`, open to all (status, version, database engine).
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { VERSION } from "../version.ts";
import { doc } from "./openapi.ts";

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
    {
      access: "public",
      detail: doc({
        tag: "Health",
        summary: "Liveness: is the head up, and does its database answer?",
        description: `200 when the database answered \`select 1\` within ${DB_PROBE_TIMEOUT_MS / 1000} s, 503 otherwise; the body says why. \`writer.queued\` counts samples accepted but not yet written.`,
        response: {
          description: "The head is up and its database answers",
          example: {
            status: "ok",
            version: VERSION,
            uptimeSeconds: 86400,
            database: { engine: "pglite", ok: true, latencyMs: 0.4 },
            writer: { queued: 0 },
          },
        },
        errors: {
          503: {
            description: "the database did not answer",
            example: {
              status: "unavailable",
              version: VERSION,
              uptimeSeconds: 86400,
              database: { engine: "postgres", ok: false, latencyMs: 2001.3, error: `no answer within ${DB_PROBE_TIMEOUT_MS} ms` },
              writer: { queued: 1200 },
            },
          },
        },
      }),
    },
  );
}
