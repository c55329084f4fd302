// JSON API for alerting: alerts (list, detail, acknowledge), silences, thresholds with built-in rules and settings, channels with test send.
import { Elysia, t } from "elysia";
import type { OpenAlert } from "../alerts/evaluate.ts";
import { ruleLabel } from "../alerts/message.ts";
import { ALERT_METRICS } from "../alerts/metrics.ts";
import * as store from "../alerts/store.ts";
import { actorOf } from "../auth/principal.ts";
import { audit } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import type { HeadContext } from "../head/context.ts";
import { testNotification } from "../notifiers/test-notification.ts";
import { guard } from "./guard.ts";
import { doc, queryParams } from "./openapi.ts";

const ID_PARAMS = t.Object({ id: t.String({ description: "The id, from the matching list call.", examples: ["12"] }) });
const KIND_PARAMS = t.Object({
  kind: t.String({ description: "offline, gpu_lost, throttle, ecc or idle_allocation", examples: ["throttle"] }),
});

const EXAMPLE_ALERT = {
  id: 41,
  rule: "threshold:temperature",
  ruleName: "GPU temperature",
  state: "firing",
  severity: "critical",
  worker: { id: 7, name: "gpu-07" },
  service: null,
  gpu: { index: 3, uuid: "GPU-5b1c…" },
  value: 88,
  threshold: 85,
  unit: "°C",
  startedAt: "2026-11-23T10:00:01.000Z",
  firedAt: "2026-11-23T10:00:31.000Z",
  resolvedAt: null,
  notified: "critical",
  suppressed: null,
  acknowledged: null,
  tier: 1,
};

type AlertRow = Awaited<ReturnType<typeof store.listAlerts>>[number];

function idOf(raw: string, what: string): number {
  if (!/^\d{1,12}$/.test(raw)) throw new InputError(`no ${what} with id ${raw}`);
  return Number(raw);
}

export function alertApiRoutes(ctx: HeadContext) {
  const db = ctx.database.db;
  const changed = async () => {
    await ctx.alerts.reload();
    ctx.live.bus.publish({ topic: "alerts", workerIds: [] });
  };

  const json = (r: AlertRow, live?: OpenAlert) => {
    const a = r.alert;
    const { label, unit } = ruleLabel(a.rule);
    const now = ctx.alerts.now();
    return {
      id: a.id,
      rule: a.rule,
      ruleName: label,
      state: live?.state ?? a.state,
      severity: live?.severity ?? a.severity,
      worker:
        a.workerId !== null ? { id: a.workerId, name: a.serviceId === null ? r.workerName : ctx.alerts.workerName(a.workerId) } : null,
      service: a.serviceId !== null ? { id: a.serviceId, name: r.workerName } : null,
      gpu: a.gpuUuid !== null && a.gpuIndex !== null ? { index: a.gpuIndex, uuid: a.gpuUuid } : null,
      value: live?.value ?? a.value,
      threshold: live?.threshold ?? a.threshold,
      unit,
      startedAt: a.startedAt.toISOString(),
      firedAt: a.firedAt?.toISOString() ?? null,
      resolvedAt: a.resolvedAt?.toISOString() ?? null,
      notified: live ? live.notifiedSeverity : a.notifiedSeverity,
      suppressed: live ? ctx.alerts.suppressedBy(live, now) : null,
      acknowledged: a.ackedAt ? { at: a.ackedAt.toISOString(), by: a.ackedBy } : null,
      tier: a.tier,
    };
  };
  const liveById = () => new Map(ctx.alerts.list().map((a) => [a.id, a]));

  return new Elysia({ name: "api-alerts", prefix: "/api/v1" })
    .use(guard(ctx))
    .get(
      "/alerts",
      async ({ query, set }) => {
        const state = query.state ?? "open";
        if (!["open", "all", "pending", "firing", "nodata", "resolved"].includes(state))
          throw new InputError("state: expected open, all, pending, firing, nodata or resolved");
        const since = query.since ? new Date(query.since) : undefined;
        if (since && Number.isNaN(since.getTime())) throw new InputError("since: not a time (ISO 8601)");
        const rows = await store.listAlerts(db, {
          state: state === "all" ? undefined : state,
          workerId: query.worker ? idOf(query.worker, "worker") : undefined,
          rule: query.rule || undefined,
          since,
          before: query.before ? idOf(query.before, "alert") : undefined,
          limit: query.limit ? Number(query.limit) || 100 : 100,
        });
        const live = liveById();
        return { alerts: rows.map((r) => json(r, live.get(r.alert.id))) };
      },
      {
        access: "viewer",
        query: queryParams({
          state: {
            description: "open (default: pending, firing and no data), firing, pending, nodata, resolved, or all",
            example: "firing",
          },
          worker: { description: "Only this worker's alerts (its id)", example: "7" },
          rule: { description: "Only this rule: threshold:<metric> or builtin:<kind>", example: "threshold:temperature" },
          since: { description: "Only alerts that started after this time (ISO 8601)", example: "2026-11-23T00:00:00Z" },
          before: { description: "Page back: only alerts with a smaller id", example: "120" },
          limit: { description: "At most this many, newest first (1-1000, default 100)", example: "50" },
        }),
        detail: doc({
          tag: "Alerts",
          summary: "List alerts",
          description:
            "Open alerts by default, with their current value. `notified` is the severity channels were last told (null: not told), " +
            "`suppressed` why they are not being told now (silenced, maintenance, cooldown). No data (worker offline) is its own state, never resolved.",
          response: { description: "Alerts, newest first", example: { alerts: [EXAMPLE_ALERT] } },
          errors: { 400: "state: expected open, all, pending, firing, nodata or resolved" },
        }),
      },
    )
    .get(
      "/alerts/:id",
      async ({ params, set }) => {
        const d = await store.alertDetail(db, idOf(params.id, "alert"));
        return {
          alert: json(d, liveById().get(d.alert.id)),
          events: d.events.map((e) => ({
            at: e.at.toISOString(),
            kind: e.kind,
            severity: e.severity,
            value: e.value,
            notified: e.notified,
            suppressed: e.suppressed,
            actor: e.actor,
          })),
          deliveries: d.deliveries.map(({ d: x, channel }) => ({
            channel,
            event: (x.payload as { event?: string }).event ?? null,
            status: x.status,
            attempts: x.attempts,
            lastError: x.lastError,
            createdAt: x.createdAt.toISOString(),
            deliveredAt: x.deliveredAt?.toISOString() ?? null,
          })),
        };
      },
      {
        access: "viewer",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "One alert with its transitions and delivery log",
          response: {
            description: "The alert, every transition (told or suppressed, and why), and each channel's delivery",
            example: {
              alert: EXAMPLE_ALERT,
              events: [
                {
                  at: "2026-11-23T10:00:31.000Z",
                  kind: "firing",
                  severity: "critical",
                  value: 88,
                  notified: true,
                  suppressed: null,
                  actor: null,
                },
              ],
              deliveries: [
                {
                  channel: "ops-webhook",
                  event: "firing",
                  status: "delivered",
                  attempts: 1,
                  lastError: null,
                  createdAt: "2026-11-23T10:00:31.000Z",
                  deliveredAt: "2026-11-23T10:00:31.120Z",
                },
              ],
            },
          },
          errors: { 404: "no alert with id 41" },
        }),
      },
    )
    .post(
      "/alerts/:id/ack",
      async ({ params, principal, client, set }) => {
        const id = idOf(params.id, "alert");
        const actor = actorOf(principal, client.ip);
        if (!(await ctx.alerts.acknowledge(id, actor.label))) throw new InputError(`no open alert with id ${id}`);
        await audit(db, actor, { action: "alert.ack", target: `alert:${id}` });
        return { acknowledged: true };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Acknowledge an open alert",
          description: "Stops its repeats and its escalation to the next channel tier; its recovery is still told.",
          response: { description: "Acknowledged", example: { acknowledged: true } },
          errors: { 404: "no open alert with id 41" },
        }),
      },
    )
    .get(
      "/silences",
      async ({ query }) => {
        const rows = await store.listSilences(db, new Date(ctx.alerts.now()), query.all === "true");
        return { silences: rows.map(silenceJson) };
      },
      {
        access: "viewer",
        query: queryParams({ all: { description: "true: include ended and cancelled ones", example: "true" } }),
        detail: doc({
          tag: "Alerts",
          summary: "List silences and maintenance windows",
          description: "Active and planned ones, soonest ending first.",
          response: { description: "Silences", example: { silences: [EXAMPLE_SILENCE] } },
        }),
      },
    )
    .post(
      "/silences",
      async ({ body, principal, client, set }) => {
        const row = await store.addSilence(db, actorOf(principal, client.ip), body, new Date(ctx.alerts.now()));
        await changed();
        set.status = 201;
        return { silence: silenceJson(row) };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Alerts",
          summary: "Silence alerts, or plan a maintenance window",
          description:
            "While it lasts, matching alerts still change state and show on the dashboard, but channels are not told; an alert still " +
            "firing when it ends is told then. Null worker, rule or GPU match all.",
          body: {
            schema: {
              type: "object",
              properties: {
                kind: { type: "string", enum: ["silence", "maintenance"], default: "silence" },
                workerId: { type: "integer", description: "Required for a maintenance window" },
                gpuUuid: { type: "string" },
                rule: { type: "string", description: "threshold:<metric> or builtin:<kind>" },
                startsAt: { type: "string", format: "date-time", description: "Default now" },
                endsAt: { type: "string", format: "date-time" },
                durationMinutes: { type: "number", description: "Instead of endsAt" },
                reason: { type: "string" },
              },
            },
            example: { workerId: 7, rule: "threshold:temperature", durationMinutes: 120, reason: "fan replaced, burn-in" },
          },
          response: { status: 201, description: "Created", example: { silence: EXAMPLE_SILENCE } },
          errors: { 400: "endsAt or durationMinutes: say when it ends" },
        }),
      },
    )
    .delete(
      "/silences/:id",
      async ({ params, principal, client, set }) => {
        await store.cancelSilence(db, actorOf(principal, client.ip), idOf(params.id, "active silence"));
        await changed();
        return { cancelled: true };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "End a silence or maintenance window now",
          response: { description: "Cancelled", example: { cancelled: true } },
          errors: { 404: "no active silence with id 3" },
        }),
      },
    )
    .get(
      "/thresholds",
      async () => ({
        thresholds: (await store.listThresholds(db)).map(thresholdJson),
        builtins: await store.listBuiltins(db),
        settings: await store.loadSettings(db),
        metrics: ALERT_METRICS.map((m) => ({ name: m.name, scope: m.scope, unit: m.unit, label: m.label })),
      }),
      {
        access: "viewer",
        detail: doc({
          tag: "Alerts",
          summary: "Threshold rules, built-in rules, alert settings and the metrics a rule may watch",
          description: "For a subject, the GPU's own rule wins over its worker's, which wins over the global one.",
          response: {
            description: "Everything the alert engine evaluates with",
            example: {
              thresholds: [EXAMPLE_THRESHOLD],
              builtins: [
                {
                  kind: "throttle",
                  label: "GPU throttling",
                  help: "thermal or hardware slowdown active for the duration",
                  enabled: true,
                  severity: "warning",
                  forSeconds: 120,
                  params: { includePowerCap: 0 },
                },
              ],
              settings: { cooldownSeconds: 300, repeatSeconds: 0, escalationMinutes: 30 },
              metrics: [{ name: "temperature", scope: "gpu", unit: "°C", label: "GPU temperature" }],
            },
          },
        }),
      },
    )
    .post(
      "/thresholds",
      async ({ body, principal, client, set }) => {
        const row = await store.saveThreshold(db, actorOf(principal, client.ip), body);
        await changed();
        return { threshold: thresholdJson(row) };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Alerts",
          summary: "Create or replace a threshold rule",
          description: "One rule per metric and scope: posting the same metric and scope again replaces it.",
          body: {
            schema: {
              type: "object",
              required: ["metric"],
              properties: {
                metric: { type: "string", description: "A name from GET /api/v1/thresholds `metrics`" },
                workerId: { type: "integer", description: "Per-worker rule (omit for global)" },
                gpuUuid: { type: "string", description: "Per-GPU rule (with workerId)" },
                direction: { type: "string", enum: ["above", "below"], default: "above" },
                warning: { type: ["number", "null"] },
                critical: { type: ["number", "null"] },
                forSeconds: { type: "integer", default: 0, description: "How long the level must hold before it fires" },
                hysteresis: { type: "number", default: 0, description: "How far back past a level the value must go to clear it" },
                enabled: { type: "boolean", default: true },
              },
            },
            example: { metric: "temperature", workerId: 7, warning: 75, critical: 88, forSeconds: 30, hysteresis: 3 },
          },
          response: { description: "The rule as stored", example: { threshold: EXAMPLE_THRESHOLD } },
          errors: { 400: "warning (90) must not be above critical (85) for a rule that fires above" },
        }),
      },
    )
    .delete(
      "/thresholds/:id",
      async ({ params, principal, client, set }) => {
        await store.deleteThreshold(db, actorOf(principal, client.ip), idOf(params.id, "threshold"));
        await changed();
        return { deleted: true };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Delete a threshold rule",
          description: "Subjects fall back to the next less specific rule; alerts of a metric left with no rule resolve.",
          response: { description: "Deleted", example: { deleted: true } },
          errors: { 404: "no threshold with id 12" },
        }),
      },
    )
    .put(
      "/thresholds/builtins/:kind",
      async ({ params, body, principal, client, set }) => {
        await store.saveBuiltin(db, actorOf(principal, client.ip), params.kind, body);
        await changed();
        return { builtin: (await store.listBuiltins(db)).find((b) => b.kind === params.kind) };
      },
      {
        access: "admin",
        params: KIND_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Change a built-in rule",
          body: {
            schema: {
              type: "object",
              properties: {
                enabled: { type: "boolean" },
                severity: { type: "string", enum: ["warning", "critical"] },
                forSeconds: { type: "integer" },
                params: { type: "object", additionalProperties: { type: "number" } },
              },
            },
            example: { enabled: true, forSeconds: 3600, params: { memoryPercent: 20 } },
          },
          response: {
            description: "The rule as it now applies",
            example: {
              builtin: {
                kind: "idle_allocation",
                label: "idle GPU memory allocation",
                help: "VRAM held while utilization stays at 0",
                enabled: true,
                severity: "warning",
                forSeconds: 3600,
                params: { memoryPercent: 20, utilization: 0 },
              },
            },
          },
          errors: { 404: 'no built-in rule "fan" (known: offline, gpu_lost, throttle, ecc, idle_allocation)' },
        }),
      },
    )
    .put(
      "/alerts/settings",
      async ({ body, principal, client, set }) => {
        const settings = await store.saveSettings(db, actorOf(principal, client.ip), body);
        await changed();
        return { settings };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Alerts",
          summary: "Change the cooldown, repeat interval and escalation delay",
          body: {
            schema: {
              type: "object",
              properties: {
                cooldownSeconds: { type: "integer", description: "After a firing is told, the same rule and subject stay quiet this long" },
                repeatSeconds: { type: "integer", description: "Re-tell a still-firing, unacknowledged alert this often (0: never)" },
                escalationMinutes: {
                  type: "integer",
                  description: "Hand an unacknowledged alert to the next channel tier after this long (0: never)",
                },
              },
            },
            example: { repeatSeconds: 3600 },
          },
          response: {
            description: "All settings now",
            example: { settings: { cooldownSeconds: 300, repeatSeconds: 3600, escalationMinutes: 30 } },
          },
          errors: { 400: "repeatSeconds: must be at least 0" },
        }),
      },
    )
    .get("/channels", async () => ({ channels: (await store.listChannels(db)).map(store.publicChannel) }), {
      access: "admin",
      detail: doc({
        tag: "Alerts",
        summary: "List notification channels",
        description: "Secrets (webhook signing secrets, tokens, passwords) are masked.",
        response: { description: "Channels by tier", example: { channels: [EXAMPLE_CHANNEL] } },
      }),
    })
    .post(
      "/channels",
      async ({ body, principal, client, set }) => {
        const row = await store.saveChannel(db, actorOf(principal, client.ip), body);
        await changed();
        set.status = 201;
        return { channel: store.publicChannel(row) };
      },
      {
        access: "admin",
        detail: doc({
          tag: "Alerts",
          summary: "Create a notification channel",
          description:
            "kind: webhook, slack, discord, ntfy, email or dashboard; `config` follows the kind's schema (docs/webhooks.md for the " +
            "webhook's body and signature). Outbound URLs to link-local, metadata and (unless VIGIL_OUTBOUND_ALLOW allows them) private addresses are refused at send time.",
          body: {
            schema: {
              type: "object",
              required: ["name", "kind", "config"],
              properties: {
                name: { type: "string" },
                kind: { type: "string", enum: ["webhook", "slack", "discord", "ntfy", "email", "dashboard"] },
                config: { type: "object" },
                enabled: { type: "boolean", default: true },
                minSeverity: { type: "string", enum: ["warning", "critical"], default: "warning" },
                tier: { type: "integer", default: 1, description: "2 and up: only alerts escalated that far" },
              },
            },
            example: { name: "ops-webhook", kind: "webhook", config: { url: "https://hooks.example.com/vigil", secret: "change-me" } },
          },
          response: { status: 201, description: "Created (secrets masked)", example: { channel: EXAMPLE_CHANNEL } },
          errors: { 400: "config: url: must be an http:// or https:// URL" },
        }),
      },
    )
    .put(
      "/channels/:id",
      async ({ params, body, principal, client, set }) => {
        const row = await store.saveChannel(db, actorOf(principal, client.ip), body, idOf(params.id, "channel"));
        await changed();
        return { channel: store.publicChannel(row) };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Change a notification channel",
          description: "A secret sent back masked (********) keeps the stored one.",
          body: { schema: { type: "object" }, example: { enabled: false } },
          response: { description: "The channel (secrets masked)", example: { channel: EXAMPLE_CHANNEL } },
          errors: { 404: "no channel with id 2" },
        }),
      },
    )
    .delete(
      "/channels/:id",
      async ({ params, principal, client, set }) => {
        await store.deleteChannel(db, actorOf(principal, client.ip), idOf(params.id, "channel"));
        await changed();
        return { deleted: true };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Delete a notification channel",
          response: { description: "Deleted, with its delivery log", example: { deleted: true } },
          errors: { 404: "no channel with id 2" },
        }),
      },
    )
    .post(
      "/channels/:id/test",
      async ({ params, set }) => {
        const c = await store.getChannel(db, idOf(params.id, "channel"));
        const outcome = await ctx.deliveries.sendNow(c.kind, c.config, testNotification(c.name, { publicUrl: ctx.config.publicUrl }));
        if (!outcome.ok) set.status = 502;
        return outcome.ok ? { delivered: true } : { delivered: false, error: outcome.error };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "Send a test notification through a channel now",
          response: { description: "The channel accepted it", example: { delivered: true } },
          errors: {
            404: "no channel with id 2",
            502: {
              description: "The channel refused it or could not be reached",
              example: { delivered: false, error: "HTTP 403 Forbidden: invalid_token" },
            },
          },
        }),
      },
    )
    .get(
      "/channels/:id/deliveries",
      async ({ params, set }) => {
        const id = idOf(params.id, "channel");
        await store.getChannel(db, id);
        const rows = await store.channelDeliveries(db, id);
        return {
          deliveries: rows.map((x) => ({
            id: x.id,
            alertId: x.alertId,
            event: (x.payload as { event?: string }).event ?? null,
            status: x.status,
            attempts: x.attempts,
            lastError: x.lastError,
            nextAttemptAt: x.status === "queued" ? x.nextAttemptAt.toISOString() : null,
            createdAt: x.createdAt.toISOString(),
            deliveredAt: x.deliveredAt?.toISOString() ?? null,
          })),
        };
      },
      {
        access: "admin",
        params: ID_PARAMS,
        detail: doc({
          tag: "Alerts",
          summary: "A channel's delivery log",
          response: {
            description: "The latest 50 deliveries, newest first",
            example: {
              deliveries: [
                {
                  id: 90,
                  alertId: 41,
                  event: "firing",
                  status: "queued",
                  attempts: 2,
                  lastError: "HTTP 503 Service Unavailable: try later",
                  nextAttemptAt: "2026-11-23T10:01:16.000Z",
                  createdAt: "2026-11-23T10:00:31.000Z",
                  deliveredAt: null,
                },
              ],
            },
          },
          errors: { 404: "no channel with id 2" },
        }),
      },
    );
}

const EXAMPLE_SILENCE = {
  id: 3,
  kind: "maintenance",
  workerId: 7,
  gpuUuid: null,
  rule: null,
  startsAt: "2026-11-23T22:00:00.000Z",
  endsAt: "2026-11-24T02:00:00.000Z",
  reason: "driver upgrade",
  createdBy: "user:alice",
};

const EXAMPLE_THRESHOLD = {
  id: 1,
  metric: "temperature",
  scope: "global",
  workerId: null,
  gpuUuid: null,
  direction: "above",
  warning: 70,
  critical: 85,
  forSeconds: 30,
  hysteresis: 3,
  enabled: true,
  updatedAt: "2026-11-23T09:00:00.000Z",
  updatedBy: "system",
};

const EXAMPLE_CHANNEL = {
  id: 2,
  name: "ops-webhook",
  kind: "webhook",
  enabled: true,
  minSeverity: "warning",
  tier: 1,
  config: { url: "https://hooks.example.com/vigil", secret: "********" },
  updatedAt: "2026-11-23T09:00:00.000Z",
  updatedBy: "user:alice",
};

function silenceJson(s: store.SilenceRow) {
  return {
    id: s.id,
    kind: s.kind,
    workerId: s.workerId,
    gpuUuid: s.gpuUuid,
    rule: s.rule,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    reason: s.reason,
    createdBy: s.createdBy,
  };
}

function thresholdJson(r: store.ThresholdRow) {
  return { ...r, updatedAt: r.updatedAt.toISOString() };
}
