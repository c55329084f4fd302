// Admin JSON API for workers: register one (enrollment token and install line), rotate or revoke its secret, restart a service.
import { Elysia } from "elysia";
import { actorOf } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import { addWorker, revokeWorker, rotateWorker, type EnrollmentTicket } from "../fleet/enrollment.ts";
import { listRestarts, requestRestart, WorkerNotConnected } from "../fleet/restarts.ts";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { doc, WORKER_ID_PARAMS } from "./openapi.ts";

const EXAMPLE_TICKET = {
  workerId: 7,
  name: "gpu-07",
  enrollmentToken: "vge_FBquxpD_J4E-zRpeSJUki3uVuqSqOro2nnZVnyxoOEk",
  expiresAt: "2026-11-30T10:00:00.000Z",
  install:
    "curl -fsSL http://vigil.lab:8480/install.sh | sudo sh -s -- --token vge_FBquxpD_J4E-zRpeSJUki3uVuqSqOro2nnZVnyxoOEk --name gpu-07",
};
const TICKET_TEXT =
  "The answer holds a one-time enrollment token (shown only here) and the one line to run on the worker, which installs " +
  "the agent and enrolls it; the token expires after 7 days or at first use.";

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
      {
        access: "admin",
        detail: doc({
          tag: "Workers",
          summary: "Register a worker",
          description: TICKET_TEXT,
          body: {
            schema: {
              type: "object",
              required: ["name"],
              properties: {
                name: { type: "string", description: "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit" },
              },
            },
            example: { name: "gpu-07" },
          },
          response: { status: 201, description: "Registered: its enrollment token and install line", example: EXAMPLE_TICKET },
          errors: { 409: "worker gpu-07 exists and is enrolled; use rotate to give it a new token" },
        }),
      },
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
      {
        access: "admin",
        params: WORKER_ID_PARAMS,
        detail: doc({
          tag: "Workers",
          summary: "Rotate a worker's credential",
          description: `Revokes the agent's secret at once (its connection is closed) and issues a new enrollment token. ${TICKET_TEXT}`,
          response: { description: "A new enrollment token and install line", example: EXAMPLE_TICKET },
          errors: { 404: "no worker with id 7", 400: "no remote worker named gpu-07" },
        }),
      },
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
      {
        access: "admin",
        params: WORKER_ID_PARAMS,
        detail: doc({
          tag: "Workers",
          summary: "Revoke a worker's credential",
          description: "Its agent is disconnected and refused from now on; its history stays. Rotate to let it back in.",
          response: { description: "Revoked", example: { revoked: true } },
          errors: { 404: "no worker with id 7" },
        }),
      },
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
      {
        access: "admin",
        params: WORKER_ID_PARAMS,
        detail: doc({
          tag: "Workers",
          summary: "Restart a systemd service on a worker",
          description:
            "Sent to the worker's agent over its WebSocket (so the worker must be connected); the agent restarts only units on " +
            "its own allow-list. Unless `force`, it first waits up to `waitSeconds` for the unit's GPU processes to end. " +
            "Follow the progress with GET /api/v1/workers/{id}/restarts.",
          body: {
            schema: {
              type: "object",
              required: ["service"],
              properties: {
                service: { type: "string", description: "The systemd unit, with its type suffix, e.g. vllm.service" },
                reason: { type: "string", description: "Why, for the audit log (at most 2000 characters)" },
                force: { type: "boolean", default: false, description: "Restart at once, without waiting for GPU processes" },
                waitSeconds: { type: "integer", minimum: 0, maximum: 86400, default: 600, description: "How long to wait for them" },
              },
            },
            example: { service: "vllm.service", reason: "stuck after OOM", waitSeconds: 300 },
          },
          response: {
            status: 202,
            description: "Sent to the agent; `state` follows its progress",
            example: {
              restart: {
                id: 12,
                workerId: 7,
                service: "vllm.service",
                reason: "stuck after OOM",
                force: false,
                requestedBy: "token:ops-script",
                requestedAt: "2026-11-23T10:05:00.000Z",
                state: "initiated",
                message: null,
                updatedAt: "2026-11-23T10:05:00.000Z",
                events: [{ state: "initiated", at: "2026-11-23T10:05:00.000Z" }],
              },
            },
          },
          errors: {
            400: "service: it has no unit type suffix such as .service",
            404: "no worker with id 7",
            409: "worker gpu-07 is not connected to this head; the restart was not sent",
          },
        }),
      },
    )
    .get(
      "/:id/restarts",
      async ({ params }) => ({ restarts: /^\d{1,9}$/.test(params.id) ? await listRestarts(db, Number(params.id)) : [] }),
      {
        access: "viewer",
        params: WORKER_ID_PARAMS,
        detail: doc({
          tag: "Workers",
          summary: "A worker's restart requests, newest first",
          description:
            "The 50 newest, each with its latest `state` (initiated, refused, waiting, stopping, restarting, completed, failed) " +
            "and every state it passed through in `events`. An unknown worker has none.",
          response: {
            description: "Restart requests",
            example: {
              restarts: [
                {
                  id: 12,
                  workerId: 7,
                  service: "vllm.service",
                  reason: "stuck after OOM",
                  force: false,
                  requestedBy: "user:alice",
                  requestedAt: "2026-11-23T10:05:00.000Z",
                  state: "completed",
                  message: null,
                  updatedAt: "2026-11-23T10:05:09.000Z",
                  events: [
                    { state: "initiated", at: "2026-11-23T10:05:00.000Z" },
                    { state: "waiting", at: "2026-11-23T10:05:00.200Z", message: "waiting for 1 GPU process" },
                    { state: "restarting", at: "2026-11-23T10:05:07.000Z" },
                    { state: "completed", at: "2026-11-23T10:05:09.000Z" },
                  ],
                },
              ],
            },
          },
        }),
      },
    );
}
