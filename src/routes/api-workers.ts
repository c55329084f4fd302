// Admin JSON API for workers: register one (enrollment token and install line), rotate or revoke its secret, restart a service.
import { Elysia } from "elysia";
import { actorOf } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import { addWorker, revokeWorker, rotateWorker, type EnrollmentTicket } from "../fleet/enrollment.ts";
import { listRestarts, requestRestart, WorkerNotConnected } from "../fleet/restarts.ts";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";

/** The one line a person runs on the worker. */
export function installLine(head: string, ticket: EnrollmentTicket): string {
  return `curl -fsSL ${head}/install.sh | sudo sh -s -- --token ${ticket.token} --name ${ticket.name}`;
}

function headUrl(ctx: HeadContext, request: Request): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl;
  const host = request.headers.get("host") ?? `localhost:${ctx.config.listen.port}`;
  return /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `http://${host}` : `http://localhost:${ctx.config.listen.port}`;
}

function ticketJson(ctx: HeadContext, request: Request, t: EnrollmentTicket) {
  return {
    workerId: t.workerId,
    name: t.name,
    enrollmentToken: t.token,
    expiresAt: t.expiresAt.toISOString(),
    install: installLine(headUrl(ctx, request), t),
  };
}

async function workerName(ctx: HeadContext, id: string): Promise<string> {
  const w = (await listWorkers(ctx.database.db)).find((x) => String(x.id) === id);
  if (!w) throw new InputError(`no worker with id ${id}`);
  return w.name;
}

export function workerAdminRoutes(ctx: HeadContext) {
  const db = ctx.database.db;
  const fail = (set: { status?: number | string }, err: unknown, status = 400) => {
    if (err instanceof InputError) {
      set.status = err.message.startsWith("no worker") ? 404 : status;
      return { error: err.message };
    }
    if (err instanceof WorkerNotConnected) {
      set.status = 409;
      return { error: err.message };
    }
    throw err;
  };

  return new Elysia({ name: "api-workers", prefix: "/api/v1/workers" })
    .use(guard(ctx))
    .post(
      "",
      async ({ body, principal, client, request, set }) => {
        try {
          const t = await addWorker(db, actorOf(principal, client.ip), (body as { name?: unknown } | undefined)?.name);
          set.status = 201;
          return ticketJson(ctx, request, t);
        } catch (err) {
          return fail(set, err, 409);
        }
      },
      { access: "admin" },
    )
    .post(
      "/:id/rotate",
      async ({ params, principal, client, request, set }) => {
        try {
          const t = await rotateWorker(db, actorOf(principal, client.ip), await workerName(ctx, params.id));
          ctx.sessions.disconnect(t.workerId, "credential rotated");
          return ticketJson(ctx, request, t);
        } catch (err) {
          return fail(set, err);
        }
      },
      { access: "admin" },
    )
    .post(
      "/:id/revoke",
      async ({ params, principal, client, set }) => {
        try {
          await revokeWorker(db, actorOf(principal, client.ip), await workerName(ctx, params.id));
          ctx.sessions.disconnect(Number(params.id), "worker revoked");
          return { revoked: true };
        } catch (err) {
          return fail(set, err);
        }
      },
      { access: "admin" },
    )
    .post(
      "/:id/restart",
      async ({ params, body, principal, client, set }) => {
        try {
          if (!/^\d{1,9}$/.test(params.id)) throw new InputError(`no worker with id ${params.id}`);
          const row = await requestRestart(
            db,
            ctx.sessions,
            actorOf(principal, client.ip),
            Number(params.id),
            (body ?? {}) as Record<string, unknown>,
          );
          set.status = 202;
          return { restart: row };
        } catch (err) {
          return fail(set, err);
        }
      },
      { access: "admin" },
    )
    .get(
      "/:id/restarts",
      async ({ params }) => ({ restarts: /^\d{1,9}$/.test(params.id) ? await listRestarts(db, Number(params.id)) : [] }),
      { access: "viewer" },
    );
}
