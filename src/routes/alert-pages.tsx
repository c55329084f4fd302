// The alerts page: what is firing, pending and silenced now, acknowledge and silence, maintenance windows, and the history.
import { Elysia } from "elysia";
import { addSilence, alertDetail, cancelSilence, listAlerts } from "../alerts/store.ts";
import { audit } from "../auth/audit.ts";
import { actorOf, type Principal } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import type { Db } from "../db/client.ts";
import { workerGpus } from "../fleet/gpus.ts";
import { findWorker } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { alertsRegionProps } from "../live/regions/alerts.tsx";
import { fleetStatus } from "../live/regions/fleet-status.tsx";
import { RenderContext } from "../live/views.ts";
import { AlertDetailPage, AlertsPage, type AlertsPageProps } from "../../views/pages/alerts.tsx";
import { NotFoundPage } from "../../views/pages/not-found.tsx";
import { HISTORY_PAGE, HISTORY_STATES } from "../../views/partials/alerts/history.tsx";
import { alertsViewName, RULE_PATTERN, ruleChoices } from "../../views/partials/alerts/model.ts";
import { DURATIONS, type MaintenanceFormValues, type SilenceFormValues } from "../../views/partials/alerts/silences.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { decodeKey, field, htmlPage, redirect } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

type PageExtras = Pick<AlertsPageProps, "forms" | "notice" | "error">;

const ID = /^[1-9]\d{0,15}$/;
const idOf = (raw: string): number | null => (ID.test(raw) ? Number(raw) : null);

/** The acknowledge and cancel buttons post through htmx when it runs: the live regions then show the outcome, no page is needed. */
const fromHtmx = (request: Request) => request.headers.get("hx-request") === "true";

/** Success: a 303 back to the page (a reload does not post again), or nothing at all for htmx. */
function done(request: Request, location: string): Response {
  return fromHtmx(request) ? new Response(null, { status: 204 }) : redirect(location);
}

/** A form's time in UTC: a datetime-local value ("2026-11-23T22:00") carries no zone, and the page shows UTC. */
function utcTime(raw: string): string {
  const v = raw.trim();
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : v;
}

function timeOf(raw: string, what: string): Date | null {
  if (raw.trim() === "") return null;
  const d = new Date(utcTime(raw));
  if (Number.isNaN(d.getTime())) throw new InputError(`${what}: not a date and time (for example 2026-11-23T22:00, in UTC)`);
  return d;
}

function workerIdOf(raw: string, required: boolean): number | null {
  const v = raw.trim();
  if (v === "") {
    if (required) throw new InputError("Worker: a maintenance window is for one worker; choose it");
    return null;
  }
  if (!ID.test(v)) throw new InputError("Worker: choose one from the list");
  return Number(v);
}

/** The silence form as addSilence's input; the words of its errors are the form's. */
async function silenceInput(db: Db, v: SilenceFormValues, now: number): Promise<Record<string, unknown>> {
  const workerId = workerIdOf(v.workerId ?? "", false);
  const rule = (v.rule ?? "").trim();
  if (rule !== "" && !RULE_PATTERN.test(rule)) throw new InputError("Rule: choose one from the list");
  let gpuUuid: string | null = null;
  const gpu = (v.gpu ?? "").trim();
  if (gpu !== "") {
    if (workerId === null) throw new InputError("GPU: choose the worker it belongs to as well");
    if (/^\d{1,4}$/.test(gpu)) {
      const found = (await workerGpus(db, workerId)).find((g) => g.index === Number(gpu));
      if (!found) throw new InputError(`GPU: that worker has no GPU ${gpu}`);
      gpuUuid = found.uuid;
    } else gpuUuid = gpu;
  }
  const input: Record<string, unknown> = {
    kind: "silence",
    workerId,
    rule: rule || null,
    gpuUuid,
    reason: (v.reason ?? "").trim() || null,
  };
  const duration = v.duration || "1h";
  if (duration === "until") {
    const until = timeOf(v.until ?? "", "Until");
    if (!until) throw new InputError("Until: give the date and time the silence ends");
    if (until.getTime() <= now) throw new InputError("Until: that time has passed");
    input.endsAt = until.toISOString();
  } else if (DURATIONS[duration]) {
    input.durationMinutes = DURATIONS[duration].minutes;
  } else {
    throw new InputError("For: choose 1 hour, 4 hours, 24 hours or a time");
  }
  return input;
}

function maintenanceInput(v: MaintenanceFormValues, now: number): Record<string, unknown> {
  const workerId = workerIdOf(v.workerId ?? "", true);
  const starts = timeOf(v.startsAt ?? "", "Starts");
  const ends = timeOf(v.endsAt ?? "", "Ends");
  if (!ends) throw new InputError("Ends: give the date and time the window ends");
  if (ends.getTime() <= (starts?.getTime() ?? now)) throw new InputError("Ends: must be after it starts");
  if (ends.getTime() <= now) throw new InputError("Ends: that time has passed");
  return {
    kind: "maintenance",
    workerId,
    startsAt: starts?.toISOString(),
    endsAt: ends.toISOString(),
    reason: (v.reason ?? "").trim() || null,
  };
}

export function alertPageRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  async function renderPage(principal: Principal | null, url: URL, extras: PageExtras = {}, status = 200): Promise<Response> {
    const rc = new RenderContext(ctx);
    const list = await rc.workers();
    const base = viewerOf(principal);
    const admin = base.role === "admin";
    const q = url.searchParams;
    const problems: string[] = [];

    const workerKey = (q.get("worker") ?? "").trim();
    const worker = workerKey ? findWorker(list, workerKey) : undefined;
    if (workerKey && !worker) problems.push(`No worker has the id or name "${workerKey.slice(0, 100)}": showing every worker.`);
    const ruleKey = (q.get("rule") ?? "").trim();
    const rule = RULE_PATTERN.test(ruleKey) ? ruleKey : null;
    if (ruleKey && !rule) problems.push(`"${ruleKey.slice(0, 100)}" is not a rule: showing every rule.`);
    const stateKey = q.get("state") ?? "";
    const state = (HISTORY_STATES as readonly string[]).includes(stateKey) ? stateKey : "";
    const before = idOf(q.get("before") ?? "") ?? undefined;
    const filter = { workerId: worker?.id ?? null, rule };

    const [regions, rows, summary] = await Promise.all([
      alertsRegionProps(rc, admin, filter),
      listAlerts(db, {
        workerId: filter.workerId ?? undefined,
        rule: rule ?? undefined,
        state: state || undefined,
        before,
        limit: HISTORY_PAGE,
      }),
      fleetStatus(rc),
    ]);
    const saved = idOf(q.get("saved") ?? "");
    return htmlPage(
      <AlertsPage
        {...regions}
        viewer={{ ...base, fleetStatus: summary, live: alertsViewName(admin, filter) }}
        filter={filter}
        workers={list.map((w) => ({ id: w.id, name: w.name })).sort((a, b) => a.name.localeCompare(b.name))}
        rules={ruleChoices()}
        history={{
          rows,
          filter: { worker: worker ? String(worker.id) : "", rule: rule ?? "", state },
          older: rows.length === HISTORY_PAGE ? rows.at(-1)!.alert.id : null,
          paged: before !== undefined,
        }}
        forms={extras.forms}
        notice={extras.notice ?? (saved !== null ? `Saved #${saved}: it is listed under Silences and maintenance windows.` : undefined)}
        error={[...problems, extras.error].filter(Boolean).join(" ") || undefined}
      />,
      status,
    );
  }

  /** A refused action: the page with the reason. For htmx, its <main> replaces the page's, since an in-place post has no page. */
  async function failed(principal: Principal | null, request: Request, extras: PageExtras, status: number): Promise<Response> {
    const res = await renderPage(principal, new URL("/alerts", request.url), extras, status);
    if (fromHtmx(request)) {
      res.headers.set("hx-retarget", "main");
      res.headers.set("hx-reselect", "main");
      res.headers.set("hx-reswap", "outerHTML");
    }
    return res;
  }

  /** Silences changed: the engine re-reads them, and open alerts pages redraw. */
  async function silencesChanged(): Promise<void> {
    await ctx.alerts.reload();
    ctx.live.bus.publish({ topic: "alerts", workerIds: [] });
  }

  return new Elysia({ name: "alert-pages" })
    .use(guard(ctx))
    .get("/alerts", ({ principal, request }) => renderPage(principal, new URL(request.url)), { access: "viewer", detail: hidden() })
    .get(
      "/alerts/:id",
      async ({ params, principal }) => {
        const viewer = { ...viewerOf(principal), fleetStatus: await fleetStatus(new RenderContext(ctx)) };
        const key = decodeKey(params.id);
        const id = idOf(key);
        const detail =
          id === null ? null : await alertDetail(db, id).catch((err) => (err instanceof InputError ? null : Promise.reject(err)));
        if (!detail)
          return htmlPage(
            <NotFoundPage viewer={viewer} what="alert" asked={key} back={{ href: "/alerts", text: "Back to the alerts" }} />,
            404,
          );
        const a = detail.alert;
        const gpuName =
          a.gpuUuid && a.workerId !== null ? ((await workerGpus(db, a.workerId)).find((g) => g.uuid === a.gpuUuid)?.name ?? null) : null;
        return htmlPage(<AlertDetailPage viewer={viewer} detail={detail} gpuName={gpuName} now={Date.now()} />);
      },
      { access: "viewer", detail: hidden() },
    )
    .post(
      "/alerts/:id/ack",
      async ({ params, body, principal, client, request }) => {
        const id = idOf(decodeKey(params.id));
        const actor = actorOf(principal, client.ip);
        const acked = id !== null && (await ctx.alerts.acknowledge(id, actor.label));
        if (!acked) {
          const error = `Not acknowledged: alert #${id ?? "?"} is not open (resolved meanwhile, or no such alert).`;
          return failed(principal, request, { error }, 409);
        }
        await audit(db, actor, { action: "alert.ack", target: `alert:${id}` });
        return done(request, field(body, "back") === "detail" ? `/alerts/${id}` : `/alerts#alert-${id}`);
      },
      { access: "admin", detail: hidden() },
    )
    .post(
      "/alerts/silences",
      async ({ body, principal, client, request }) => {
        const now = Date.now();
        const actor = actorOf(principal, client.ip);
        if (field(body, "kind") === "maintenance") {
          const values: MaintenanceFormValues = {
            workerId: field(body, "workerId"),
            startsAt: field(body, "startsAt"),
            endsAt: field(body, "endsAt"),
            reason: field(body, "reason"),
          };
          try {
            const row = await addSilence(db, actor, maintenanceInput(values, now));
            await silencesChanged();
            return redirect(`/alerts?saved=${row.id}#silence-${row.id}`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return failed(principal, request, { forms: { maintenance: { error: `Not planned: ${err.message}`, values } } }, 400);
          }
        }
        const values: SilenceFormValues = {
          workerId: field(body, "workerId"),
          rule: field(body, "rule"),
          gpu: field(body, "gpu"),
          duration: field(body, "duration"),
          until: field(body, "until"),
          reason: field(body, "reason"),
        };
        try {
          const row = await addSilence(db, actor, await silenceInput(db, values, now));
          await silencesChanged();
          return redirect(`/alerts?saved=${row.id}#silence-${row.id}`);
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return failed(principal, request, { forms: { silence: { error: `Not silenced: ${err.message}`, values } } }, 400);
        }
      },
      { access: "admin", detail: hidden() },
    )
    .post(
      "/alerts/silences/:id/cancel",
      async ({ params, principal, client, request }) => {
        const id = idOf(decodeKey(params.id));
        try {
          if (id === null) throw new InputError("no such silence");
          await cancelSilence(db, actorOf(principal, client.ip), id);
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return failed(principal, request, { error: `Not cancelled: ${err.message}.` }, 400);
        }
        await silencesChanged();
        return done(request, "/alerts#silences");
      },
      { access: "admin", detail: hidden() },
    );
}
