// JSON API for service health: services (list, detail with uptime and timeline, create, change, remove), quick actions, pre-flight, and the open readiness gate.
import { Elysia, t } from "elysia";
import { actorOf } from "../auth/principal.ts";
import { audit } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import { CHECKERS } from "../checks/registry.ts";
import { requestRestart } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import type { LatestCheck, ServiceRow } from "../health/loop.ts";
import { addOverride, cancelOverride, currentPreflight } from "../health/preflight.ts";
import * as store from "../health/store.ts";
import { guard } from "./guard.ts";
import { failJson } from "./respond.ts";
import { doc, queryParams } from "./openapi.ts";

const ID_PARAMS = t.Object({ id: t.String({ description: "The service's id, from GET /api/v1/services.", examples: ["3"] }) });
const DAY = 86_400_000;

const EXAMPLE_SERVICE = {
  id: 5,
  name: "inference-api",
  kind: "http",
  config: { url: "http://10.0.0.7:8000/health", expectStatus: "200" },
  workerId: null,
  intervalSeconds: 30,
  timeoutSeconds: 10,
  degradedLatencyMs: 500,
  critical: true,
  escalationSeconds: 300,
  channelIds: [],
  requiredFiles: [],
  logSource: null,
  enabled: true,
  latest: {
    status: "healthy",
    at: "2026-11-23T10:00:30.000Z",
    since: "2026-11-22T08:00:00.000Z",
    latencyMs: 35,
    message: "HTTP 200 in 35 ms",
  },
  uptime7d: 99.93,
  uptime30d: 99.98,
};

function idOf(raw: string, what = "service"): number {
  if (!/^\d{1,9}$/.test(raw)) throw new InputError(`no ${what} with id ${raw}`);
  return Number(raw);
}

function latestJson(l: LatestCheck | undefined) {
  if (!l) return null;
  return {
    status: l.status,
    at: new Date(l.at).toISOString(),
    since: new Date(l.since).toISOString(),
    latencyMs: l.latencyMs,
    message: l.message,
    details: l.details,
  };
}

export function healthApiRoutes(ctx: HeadContext) {
  const db = ctx.database.db;
  const weight = () => ctx.config.uptimeDegradedWeight;

  const serviceJson = async (s: ServiceRow) => {
    const report = await store.uptimeReport(db, s.id, ctx.health.now(), weight(), DAY);
    return {
      id: s.id,
      name: s.name,
      kind: s.kind,
      config: s.config,
      workerId: s.workerId,
      intervalSeconds: s.intervalSeconds,
      timeoutSeconds: s.timeoutSeconds,
      degradedLatencyMs: s.degradedLatencyMs,
      critical: s.critical,
      escalationSeconds: s.escalationSeconds,
      channelIds: s.channelIds,
      requiredFiles: s.requiredFiles,
      logSource: s.logSource,
      enabled: s.enabled,
      latest: latestJson(ctx.health.latestOf(s.id)),
      uptime7d: report.uptime7d.percent,
      uptime30d: report.uptime30d.percent,
    };
  };
  const serviceOf = (raw: string): ServiceRow => {
    const s = ctx.health.service(idOf(raw));
    if (!s) throw new InputError(`no service with id ${raw}`);
    return s;
  };
  const changed = async (id?: number) => {
    await ctx.health.reload(id);
    ctx.live.bus.publish({ topic: "health", serviceIds: [] });
  };

  return new Elysia({ name: "api-health", prefix: "/api/v1" })
    .use(guard(ctx))
    .get(
      "/ready",
      async ({ set }) => {
        const p = await currentPreflight(ctx);
        if (!p.ready) set.status = 503;
        return p.ready ? { ready: true } : { ready: false, failing: p.failing };
      },
      {
        access: "public",
        detail: doc({
          tag: "Health",
          summary: "Readiness gate: do all critical pre-flight checks pass?",
          description:
            "For a job scheduler or a CI step to gate on: 200 when every critical checklist item passes (or an admin overrode it), " +
            "503 with the failing items' names otherwise (`database` when the head cannot reach its database). No login; the body holds names only. GET /api/v1/preflight has the details.",
          response: { description: "Ready", example: { ready: true } },
          errors: {
            503: {
              description: "Not ready: the critical items that fail (`database` alone when the database does not answer)",
              example: { ready: false, failing: ["service:inference-api"] },
            },
          },
        }),
      },
    )
    .get("/preflight", () => currentPreflight(ctx), {
      access: "viewer",
      detail: doc({
        tag: "Health",
        summary: "The pre-flight checklist",
        description:
          "Migrations current, a worker online, every critical service healthy, required files present, channels configured; each critical or optional, with any override.",
        response: {
          description: "The checklist now",
          example: {
            ready: false,
            failing: ["service:inference-api"],
            at: "2026-11-23T10:00:00.000Z",
            items: [
              { name: "migrations", label: "Database migrations current", critical: true, state: "pass", message: "7 of 7 applied" },
              {
                name: "service:inference-api",
                label: "inference-api healthy",
                critical: true,
                state: "fail",
                message: "down: GET http://10.0.0.7:8000/health: connection refused",
              },
            ],
          },
        },
      }),
    })
    .post(
      "/preflight/overrides",
      async ({ body, principal, client, set }) => {
        const row = await addOverride(db, actorOf(principal, client.ip), body, ctx.health.now());
        ctx.live.bus.publish({ topic: "health", serviceIds: [] });
        set.status = 201;
        return {
          override: {
            id: row.id,
            check: row.check,
            reason: row.reason,
            createdBy: row.createdBy,
            expiresAt: row.expiresAt.toISOString(),
          },
        };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Health",
          summary: "Let the gate open despite a failing check, for a while",
          description:
            "Recorded with who and why in the audit log and shown on the health page; it expires (default 60 minutes, at most 7 days).",
          body: {
            schema: {
              type: "object",
              required: ["check", "reason"],
              properties: {
                check: { type: "string", description: "A checklist item's name, e.g. service:inference-api" },
                reason: { type: "string" },
                durationMinutes: { type: "integer", default: 60 },
              },
            },
            example: { check: "workers-online", reason: "maintenance night, jobs paused", durationMinutes: 120 },
          },
          response: {
            status: 201,
            description: "In force until it expires",
            example: {
              override: {
                id: 2,
                check: "workers-online",
                reason: "maintenance night, jobs paused",
                createdBy: "user:alice",
                expiresAt: "2026-11-23T12:00:00.000Z",
              },
            },
          },
          errors: { 400: "reason: say why the gate may open anyway" },
        }),
      },
    )
    .delete(
      "/preflight/overrides/:id",
      async ({ params, principal, client, set }) => {
        await cancelOverride(db, actorOf(principal, client.ip), idOf(params.id, "active override"));
        ctx.live.bus.publish({ topic: "health", serviceIds: [] });
        return { cancelled: true };
      },
      {
        access: "admin",
        params: t.Object({ id: t.String({ description: "The override's id", examples: ["2"] }) }),
        detail: doc({
          tag: "Health",
          summary: "End an override now",
          response: { description: "Cancelled", example: { cancelled: true } },
          errors: { 404: "no active override with id 2" },
        }),
      },
    )
    .get("/services", async () => ({ services: await Promise.all(ctx.health.services().map(serviceJson)) }), {
      access: "viewer",
      detail: doc({
        tag: "Health",
        summary: "List checked services with their latest result and uptime",
        description:
          "Uptime counts degraded time at VIGIL_UPTIME_DEGRADED_WEIGHT (default 0.5); time before the first check is not counted.",
        response: { description: "Services by name", example: { services: [EXAMPLE_SERVICE] } },
      }),
    })
    .get(
      "/services/kinds",
      () => ({ kinds: CHECKERS.map((c) => ({ kind: c.kind, label: c.label, needsWorker: c.needsWorker, config: c.schema })) }),
      {
        access: "viewer",
        detail: doc({
          tag: "Health",
          summary: "The kinds of check and the settings each takes",
          response: {
            description: "Each kind with its config schema (JSON Schema)",
            example: {
              kinds: [
                {
                  kind: "tcp",
                  label: "TCP port",
                  needsWorker: false,
                  config: { type: "object", properties: { host: { type: "string" } } },
                },
              ],
            },
          },
        }),
      },
    )
    .get(
      "/services/:id",
      async ({ params, query, set }) => {
        const s = serviceOf(params.id);
        const days = query.days ? Number(query.days) : 7;
        if (!Number.isInteger(days) || days < 1 || days > 30) throw new InputError("days: from 1 to 30");
        const report = await store.uptimeReport(db, s.id, ctx.health.now(), weight(), days * DAY);
        const iso = (ms: number) => new Date(ms).toISOString();
        return {
          service: await serviceJson(s),
          uptime: { "7d": report.uptime7d, "30d": report.uptime30d },
          timeline: report.timeline.map((x) => ({
            status: x.status,
            from: iso(x.from),
            to: iso(x.to),
            ongoing: x.ongoing,
            message: x.message ?? "",
          })),
          incidents: report.incidents.map((x) => ({
            status: x.status,
            startedAt: iso(x.startedAt),
            endedAt: x.endedAt === null ? null : iso(x.endedAt),
            durationMs: x.durationMs,
            message: x.message ?? "",
          })),
          checks: (await store.recentChecks(db, s.id)).map((c) => ({
            at: c.at.toISOString(),
            status: c.status,
            latencyMs: c.latencyMs,
            message: c.message,
            details: c.details,
          })),
        };
      },
      {
        access: "viewer",
        params: ID_PARAMS,
        query: queryParams({ days: { description: "Timeline and incidents over the last N days (1-30, default 7)", example: "7" } }),
        detail: doc({
          tag: "Health",
          summary: "One service: latest result, uptime, timeline of status windows, incidents, recent checks",
          response: {
            description: "The service's history",
            example: {
              service: EXAMPLE_SERVICE,
              uptime: {
                "7d": { percent: 99.93, healthyMs: 604000000, degradedMs: 0, downMs: 420000, unknownMs: 0 },
                "30d": { percent: 99.98, healthyMs: 2591000000, degradedMs: 0, downMs: 420000, unknownMs: 0 },
              },
              timeline: [
                {
                  status: "down",
                  from: "2026-11-22T07:53:00.000Z",
                  to: "2026-11-22T08:00:00.000Z",
                  ongoing: false,
                  message: "connection refused",
                },
              ],
              incidents: [
                {
                  status: "down",
                  startedAt: "2026-11-22T07:53:00.000Z",
                  endedAt: "2026-11-22T08:00:00.000Z",
                  durationMs: 420000,
                  message: "connection refused",
                },
              ],
              checks: [
                {
                  at: "2026-11-23T10:00:30.000Z",
                  status: "healthy",
                  latencyMs: 35,
                  message: "HTTP 200 in 35 ms",
                  details: { status: 200 },
                },
              ],
            },
          },
          errors: { 404: "no service with id 5" },
        }),
      },
    )
    .post(
      "/services",
      async ({ body, principal, client, set }) => {
        const row = await store.saveService(db, actorOf(principal, client.ip), body);
        await changed(row.id);
        set.status = 201;
        return { service: await serviceJson(ctx.health.service(row.id) ?? row) };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Health",
          summary: "Add a service to check",
          description: "kind and config as GET /api/v1/services/kinds lists them; checked at once, then every intervalSeconds.",
          body: {
            schema: {
              type: "object",
              required: ["name", "kind"],
              properties: {
                name: { type: "string" },
                kind: { type: "string" },
                config: { type: "object" },
                workerId: { type: "integer", description: "The worker it runs on (required for agent, unit, worker-http, worker-tcp)" },
                intervalSeconds: { type: "integer", default: 30 },
                timeoutSeconds: { type: "integer", default: 10 },
                degradedLatencyMs: { type: "integer", description: "Slower answers are degraded" },
                critical: { type: "boolean", default: false, description: "Pre-flight (and /api/v1/ready) needs it healthy" },
                escalationSeconds: {
                  type: "integer",
                  default: 300,
                  description: "Channels hear of a problem once it has lasted this long",
                },
                channelIds: {
                  type: "array",
                  items: { type: "integer" },
                  description: "The channels its alerts go to (ids from GET /api/v1/channels); empty: every channel",
                },
                requiredFiles: {
                  type: "array",
                  items: { type: "string" },
                  description: "Absolute paths that must exist (on its worker, if any)",
                },
                logSource: { type: "string", description: "unit:NAME or an absolute path, for the log viewer" },
                enabled: { type: "boolean", default: true },
              },
            },
            example: {
              name: "inference-api",
              kind: "http",
              config: { url: "http://10.0.0.7:8000/health" },
              critical: true,
              degradedLatencyMs: 500,
            },
          },
          response: { status: 201, description: "Added", example: { service: EXAMPLE_SERVICE } },
          errors: { 400: "config: url is required" },
        }),
      },
    )
    .put(
      "/services/:id",
      async ({ params, body, principal, client, set }) => {
        const row = await store.saveService(db, actorOf(principal, client.ip), body, idOf(params.id));
        await changed(row.id);
        return { service: await serviceJson(ctx.health.service(row.id) ?? row) };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "Change a service",
          body: { schema: { type: "object" }, example: { intervalSeconds: 10, critical: false } },
          response: { description: "The service as it is now", example: { service: EXAMPLE_SERVICE } },
          errors: { 404: "no service with id 5" },
        }),
      },
    )
    .delete(
      "/services/:id",
      async ({ params, principal, client, set }) => {
        await store.deleteService(db, actorOf(principal, client.ip), idOf(params.id));
        await changed();
        return { deleted: true };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "Stop checking a service and remove its history",
          response: { description: "Deleted", example: { deleted: true } },
          errors: { 404: "no service with id 5" },
        }),
      },
    )
    .post(
      "/services/:id/check",
      async ({ params, principal, client, set }) => {
        const s = serviceOf(params.id);
        await audit(db, actorOf(principal, client.ip), { action: "service.check", target: s.name });
        return { latest: latestJson(await ctx.health.checkNow(s.id)) };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "Re-check a service now",
          response: { description: "The new result", example: { latest: EXAMPLE_SERVICE.latest } },
          errors: { 404: "no service with id 5" },
        }),
      },
    )
    .post(
      "/services/:id/diagnose",
      async ({ params, principal, client, set }) => {
        const s = serviceOf(params.id);
        await audit(db, actorOf(principal, client.ip), { action: "service.diagnose", target: s.name });
        return { lines: await ctx.health.diagnose(s.id) };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "Diagnose: an extended check with its output line by line",
          response: {
            description: "What was tried and found",
            example: { lines: ["resolved 10.0.0.7", "GET http://10.0.0.7:8000/health", "HTTP 200 in 35 ms", "server: uvicorn"] },
          },
          errors: { 404: "no service with id 5" },
        }),
      },
    )
    .get(
      "/services/:id/log",
      async ({ params, principal, client, set }) => {
        try {
          const s = serviceOf(params.id);
          const source = s.logSource ?? (s.kind === "unit" && typeof s.config.unit === "string" ? `unit:${s.config.unit}` : null);
          if (!source) throw new InputError(`${s.name} has no log to show: set its logSource (unit:NAME or a file path)`);
          await audit(db, actorOf(principal, client.ip), { action: "service.log", target: s.name, details: { source } });
          const probe = source.startsWith("unit:")
            ? ({ kind: "log", unit: source.slice(5), lines: 100 } as const)
            : ({ kind: "log", path: source, lines: 100 } as const);
          if (s.workerId === null) throw new InputError(`${s.name} runs on no worker; logs are read by a worker's agent`);
          const answer = await ctx.probes.run(s.workerId, probe, s.timeoutSeconds * 1000);
          if (!answer.ok) {
            set.status = 502;
            return { error: answer.error ?? "the agent could not read the log" };
          }
          return { source, lines: (answer.result.lines ?? []) as string[], note: answer.result.note ?? null };
        } catch (err) {
          if (err instanceof Error && /not connected|did not answer/.test(err.message)) {
            set.status = 502;
            return { error: err.message };
          }
          return failJson(set, err);
        }
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "The last 100 lines of the service's log, read on its worker",
          description: "journald for a unit (only units on the agent's restart allow-list), or a file under the agent's VIGIL_PROBE_PATHS.",
          response: {
            description: "The lines, oldest first",
            example: { source: "unit:vllm.service", lines: ["2026-11-23T10:00:01+0000 gpu-07 vllm[4242]: INFO: 200 OK"], note: null },
          },
          errors: {
            400: "inference-api has no log to show: set its logSource (unit:NAME or a file path)",
            502: "worker 7's agent is not connected to this head",
          },
        }),
      },
    )
    .post(
      "/services/:id/restart",
      async ({ params, body, principal, client, set }) => {
        const s = serviceOf(params.id);
        const unit =
          s.kind === "unit" && typeof s.config.unit === "string"
            ? s.config.unit
            : s.logSource?.startsWith("unit:")
              ? s.logSource.slice(5)
              : null;
        if (!unit || s.workerId === null) throw new InputError(`${s.name} is not a unit on a worker; nothing to restart`);
        const b = (body ?? {}) as Record<string, unknown>;
        const row = await requestRestart(db, ctx.sessions, actorOf(principal, client.ip), s.workerId, {
          ...b,
          service: unit.includes(".") ? unit : `${unit}.service`,
        });
        set.status = 202;
        return { restart: row };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Health",
          summary: "Restart the service's unit through its worker's agent",
          description:
            "The same path as POST /api/v1/workers/{id}/restart: only units on the agent's allow-list; follow it in the worker's restarts.",
          body: {
            schema: {
              type: "object",
              properties: { reason: { type: "string" }, force: { type: "boolean" }, waitSeconds: { type: "integer" } },
            },
            example: { reason: "hung after OOM", force: false },
          },
          response: {
            status: 202,
            description: "Sent to the agent",
            example: { restart: { id: 12, service: "vllm.service", state: "initiated" } },
          },
          errors: { 400: "inference-api is not a unit on a worker; nothing to restart", 409: "worker 7's agent is not connected" },
        }),
      },
    );
}
