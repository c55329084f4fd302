// The health pages: the checklist and service cards (/health), one service with its quick actions (/health/:id), add, edit and delete, overrides, and the optional public /status.
import { listChannels } from "../alerts/store.ts";
import { Elysia } from "elysia";
import { audit } from "../auth/audit.ts";
import { actorOf, type Principal } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import { requestRestart, WorkerNotConnected } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import type { ServiceRow } from "../health/loop.ts";
import { addOverride, cancelOverride } from "../health/preflight.ts";
import { deleteService, saveService } from "../health/store.ts";
import { fleetStatus } from "../live/regions/fleet-status.tsx";
import { healthRegionProps, serviceDetailProps } from "../live/regions/health.tsx";
import { RenderContext } from "../live/views.ts";
import {
  HealthPage,
  ServiceDetailPage,
  ServiceEditPage,
  StatusPage,
  type HealthPageProps,
  type ServiceDetailPageProps,
} from "../../views/pages/health.tsx";
import { LOG_LINES, LogPanel, logUnavailable, unitName, type LogView } from "../../views/partials/health/actions.tsx";
import {
  NEW_SERVICE,
  readServiceForm,
  serviceFormValues,
  serviceInput,
  type ServiceFormValues,
} from "../../views/partials/health/form-model.ts";
import { healthViewName, logSourceOf, rangeOf, stateOf, unitOf } from "../../views/partials/health/model.ts";
import { OVERRIDE_DURATIONS } from "../../views/partials/health/preflight.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { decodeKey, field, htmlPage, redirect } from "./respond.ts";
import { NotFoundPage } from "../../views/pages/not-found.tsx";
import type { ClientInfo } from "../auth/client-ip.ts";
import { viewerOf } from "./viewer.ts";

type ListExtras = Pick<HealthPageProps, "addForm" | "overrideForm" | "notice" | "error">;
type DetailExtras = Pick<ServiceDetailPageProps, "diagnosis" | "restart" | "notice" | "noticeLink">;

const ID = /^[1-9]\d{0,8}$/;
const idOf = (raw: string): number | null => (ID.test(raw) ? Number(raw) : null);

/** The re-check, override and cancel buttons post through htmx when it runs: the live regions then show the outcome. */
const fromHtmx = (request: Request) => request.headers.get("hx-request") === "true";

/** Success: a 303 back to the page (a reload does not post again), or nothing at all for htmx. */
function done(request: Request, location: string): Response {
  return fromHtmx(request) ? new Response(null, { status: 204 }) : redirect(location);
}

/** What the /health/:id handlers read of Elysia's context. */
interface ServiceRequest {
  params: { id: string };
  principal: Principal | null;
  client: ClientInfo;
  request: Request;
  body: unknown;
}

export function healthPageRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  const workerChoices = (rc: RenderContext) =>
    rc.workers().then((list) => list.map((w) => ({ id: w.id, name: w.name })).sort((a, b) => a.name.localeCompare(b.name)));

  async function renderList(principal: Principal | null, url: URL, extras: ListExtras = {}, status = 200): Promise<Response> {
    const rc = new RenderContext(ctx);
    const base = viewerOf(principal);
    const admin = base.role === "admin";
    const [regions, summary, workers] = await Promise.all([healthRegionProps(rc, admin), fleetStatus(rc), workerChoices(rc)]);
    const q = url.searchParams;
    const notice =
      extras.notice ??
      (q.get("deleted") === "1"
        ? "Deleted: the service is no longer checked, and its history is gone."
        : q.get("overridden") === "1"
          ? "Overridden: the gate counts that item as passing until the override ends."
          : undefined);
    // An override refused for an item the checklist no longer offers one for: the form is gone, so the page says it.
    const f = extras.overrideForm;
    const orphan = f && !regions.preflight.items.some((i) => i.name === f.check && i.state !== "pass" && !i.override) ? f.error : undefined;
    return htmlPage(
      <HealthPage
        {...regions}
        viewer={{ ...base, fleetStatus: summary, live: healthViewName({ page: "list", admin }) }}
        workers={workers}
        newService={NEW_SERVICE}
        addForm={extras.addForm}
        overrideForm={orphan ? undefined : f}
        notice={notice}
        error={[extras.error, orphan].filter(Boolean).join(" ") || undefined}
      />,
      status,
    );
  }

  /** A refused action on /health: the page with the reason. For htmx, its <main> replaces the page's. */
  async function failed(principal: Principal | null, request: Request, extras: ListExtras, status: number): Promise<Response> {
    const res = await renderList(principal, new URL("/health", request.url), extras, status);
    if (fromHtmx(request)) {
      res.headers.set("hx-retarget", "main");
      res.headers.set("hx-reselect", "main");
      res.headers.set("hx-reswap", "outerHTML");
    }
    return res;
  }

  async function notFound(principal: Principal | null, asked: string): Promise<Response> {
    const viewer = { ...viewerOf(principal), fleetStatus: await fleetStatus(new RenderContext(ctx)) };
    return htmlPage(
      <NotFoundPage viewer={viewer} what="service" asked={asked} back={{ href: "/health", text: "Back to service health" }} />,
      404,
    );
  }

  const serviceOf = (key: string): ServiceRow | undefined => {
    const id = idOf(key);
    return id === null ? undefined : ctx.health.service(id);
  };

  /** The service's edit form: as stored, or as typed with the reason it was not saved (a 400). */
  async function editPage(principal: Principal | null, s: ServiceRow, values: ServiceFormValues, error?: string): Promise<Response> {
    const rc = new RenderContext(ctx);
    const [summary, workers] = await Promise.all([fleetStatus(rc), workerChoices(rc)]);
    return htmlPage(
      <ServiceEditPage
        viewer={{ ...viewerOf(principal), fleetStatus: summary }}
        service={s}
        values={values}
        workers={workers}
        error={error}
      />,
      error ? 400 : 200,
    );
  }

  /** A /health/:id handler given its service, or the not-found page when :id names none. */
  const withService =
    (handler: (c: ServiceRequest, s: ServiceRow) => Promise<Response>) =>
    async (c: ServiceRequest): Promise<Response> => {
      const key = decodeKey(c.params.id);
      const s = serviceOf(key);
      return s ? handler(c, s) : notFound(c.principal, key);
    };

  /** The log's last lines, read on the service's worker by its agent (the same probe as GET /api/v1/services/:id/log). */
  async function readLog(s: ServiceRow): Promise<LogView> {
    const source = logSourceOf(s) ?? "";
    const at = Date.now();
    const problem = logUnavailable(s);
    if (problem || s.workerId === null) return { source, lines: [], note: null, error: problem ?? "no worker", at };
    const probe = source.startsWith("unit:")
      ? ({ kind: "log", unit: source.slice(5), lines: LOG_LINES } as const)
      : ({ kind: "log", path: source, lines: LOG_LINES } as const);
    try {
      const answer = await ctx.probes.run(s.workerId, probe, s.timeoutSeconds * 1000);
      if (!answer.ok) return { source, lines: [], note: null, error: answer.error ?? "the agent could not read the log", at };
      const lines = Array.isArray(answer.result.lines) ? answer.result.lines.map(String) : [];
      const note = typeof answer.result.note === "string" ? answer.result.note : null;
      return { source, lines, note, at };
    } catch (err) {
      return { source, lines: [], note: null, error: (err as Error).message, at };
    }
  }

  /** Opening the log is audited; the panel's own re-reads every few seconds while it stays open are not. */
  async function openLog(principal: Principal | null, ip: string | null, s: ServiceRow): Promise<LogView> {
    await audit(db, actorOf(principal, ip), { action: "service.log", target: s.name, details: { source: logSourceOf(s) } });
    return readLog(s);
  }

  function noticeOf(s: ServiceRow, q: URLSearchParams): Pick<DetailExtras, "notice" | "noticeLink"> {
    if (q.get("added") === "1") return { notice: "Added: it is checked at once, then at its interval." };
    if (q.get("saved") === "1") return { notice: "Saved: it is checked again with the new settings." };
    if (q.get("checked") === "1") {
      const l = ctx.health.latestOf(s.id);
      return { notice: l ? `Checked: ${l.status}, ${l.message}` : "Checked." };
    }
    const restarted = q.get("restarted");
    if (restarted && /^\d{1,9}$/.test(restarted) && s.workerId !== null)
      return {
        notice: `Restart #${restarted} sent to the agent.`,
        noticeLink: { href: `/workers/${s.workerId}?restarted=${restarted}#restart-status`, text: "Follow it on the worker's page" },
      };
    return {};
  }

  async function renderDetail(
    principal: Principal | null,
    s: ServiceRow,
    url: URL,
    extras: DetailExtras & { log?: LogView } = {},
    status = 200,
  ): Promise<Response> {
    const rc = new RenderContext(ctx);
    const days = rangeOf(url.searchParams.get("days"));
    const [props, summary] = await Promise.all([serviceDetailProps(rc, s.id, days), fleetStatus(rc)]);
    if (!props) return notFound(principal, String(s.id));
    const viewer = { ...viewerOf(principal), fleetStatus: summary, live: healthViewName({ page: "service", serviceId: s.id, days }) };
    return htmlPage(<ServiceDetailPage {...props} viewer={viewer} {...noticeOf(s, url.searchParams)} {...extras} />, status);
  }

  /** Added, changed or removed: the loop re-reads its services (checking a changed one at once) and open pages redraw. */
  async function changed(id?: number): Promise<void> {
    await ctx.health.reload(id);
    ctx.live.bus.publish({ topic: "health", serviceIds: id === undefined ? [] : [id] });
  }

  return (
    new Elysia({ name: "health-pages" })
      .use(guard(ctx))
      .get("/health", ({ principal, request }) => renderList(principal, new URL(request.url)), { access: "viewer", detail: hidden() })
      .post(
        "/health/services",
        async ({ body, principal, client, request }) => {
          const values: ServiceFormValues = readServiceForm((name) => field(body, name));
          try {
            const row = await saveService(db, actorOf(principal, client.ip), serviceInput(values));
            await changed(row.id);
            return redirect(`/health/${row.id}?added=1`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return failed(principal, request, { addForm: { values, error: `Not added: ${err.message}` } }, 400);
          }
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/overrides",
        async ({ body, principal, client, request }) => {
          const check = field(body, "check");
          const values = { reason: field(body, "reason"), duration: field(body, "duration") };
          try {
            const d = OVERRIDE_DURATIONS[values.duration || "1h"];
            if (!d) throw new InputError("For: choose one of the durations offered");
            await addOverride(
              db,
              actorOf(principal, client.ip),
              { check, reason: values.reason, durationMinutes: d.minutes },
              ctx.health.now(),
            );
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return failed(principal, request, { overrideForm: { check, error: `Not overridden: ${err.message}`, values } }, 400);
          }
          ctx.live.bus.publish({ topic: "health", serviceIds: [] });
          return done(request, "/health?overridden=1#health-preflight");
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/overrides/:id/cancel",
        async ({ params, principal, client, request }) => {
          const id = idOf(decodeKey(params.id));
          try {
            if (id === null) throw new InputError("no such override");
            await cancelOverride(db, actorOf(principal, client.ip), id);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return failed(principal, request, { error: `Not cancelled: ${err.message}.` }, 400);
          }
          ctx.live.bus.publish({ topic: "health", serviceIds: [] });
          return done(request, "/health#health-preflight");
        },
        { access: "admin", detail: hidden() },
      )
      .get(
        "/health/:id",
        withService(async ({ principal, client, request }, s) => {
          const url = new URL(request.url);
          const admin = viewerOf(principal).role === "admin";
          // The log is for admins; for anyone else ?log=1 is ignored.
          const log =
            admin && url.searchParams.get("log") === "1" && !logUnavailable(s) ? await openLog(principal, client.ip, s) : undefined;
          return renderDetail(principal, s, url, { log });
        }),
        { access: "viewer", detail: hidden() },
      )
      .get(
        "/health/:id/log",
        async ({ params, principal, client, query }) => {
          const s = serviceOf(decodeKey(params.id));
          const problem = s ? logUnavailable(s) : "no such service";
          if (!s || problem) return htmlPage(<p class="notice notice-error" safe>{`No log to show: ${problem}.`}</p>, 404);
          const log = query.follow === "1" ? await readLog(s) : await openLog(principal, client.ip, s);
          return htmlPage(<LogPanel serviceId={s.id} log={log} />);
        },
        { access: "admin", detail: hidden() },
      )
      .get(
        "/health/:id/edit",
        withService(async ({ principal }, s) => {
          const channelNames = new Map((await listChannels(ctx.database.db)).map((c) => [c.id, c.name]));
          return editPage(principal, s, serviceFormValues(s, channelNames));
        }),
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/:id/edit",
        withService(async ({ body, principal, client }, s) => {
          // The kind stays the stored one, whatever the form says.
          const values = readServiceForm((name) => field(body, name), s.kind);
          try {
            await saveService(db, actorOf(principal, client.ip), serviceInput(values), s.id);
            await changed(s.id);
            return redirect(`/health/${s.id}?saved=1`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return editPage(principal, s, values, `Not saved: ${err.message}`);
          }
        }),
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/:id/delete",
        withService(async ({ principal, client }, s) => {
          await deleteService(db, actorOf(principal, client.ip), s.id);
          await changed();
          return redirect("/health?deleted=1");
        }),
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/:id/check",
        withService(async ({ principal, client, request }, s) => {
          await audit(db, actorOf(principal, client.ip), { action: "service.check", target: s.name });
          await ctx.health.checkNow(s.id);
          return done(request, `/health/${s.id}?checked=1#service-latest`);
        }),
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/:id/diagnose",
        withService(async ({ principal, client, request }, s) => {
          await audit(db, actorOf(principal, client.ip), { action: "service.diagnose", target: s.name });
          const lines = await ctx.health.diagnose(s.id);
          return renderDetail(principal, s, new URL(request.url), { diagnosis: { lines, at: Date.now() } });
        }),
        { access: "admin", detail: hidden() },
      )
      .post(
        "/health/:id/restart",
        withService(async ({ body, principal, client, request }, s) => {
          const values = { reason: field(body, "reason"), force: field(body, "force") === "on" };
          const actor = actorOf(principal, client.ip);
          try {
            const unit = unitOf(s);
            if (!unit || s.workerId === null) throw new InputError(`${s.name} is not a unit on a worker; nothing to restart`);
            // The same path as the API's and the worker page's restart: the agent checks its allow-list again.
            const row = await requestRestart(db, ctx.sessions, actor, s.workerId, {
              service: unitName(unit),
              reason: values.reason.trim() || undefined,
              force: values.force,
            });
            await audit(db, actor, { action: "service.restart", target: s.name, details: { restartId: row.id, unit: row.service } });
            return redirect(`/health/${s.id}?restarted=${row.id}`);
          } catch (err) {
            const status = err instanceof WorkerNotConnected ? 409 : err instanceof InputError ? 400 : 0;
            if (!status) throw err;
            const url = new URL(`/health/${s.id}`, request.url);
            return renderDetail(principal, s, url, { restart: { error: `Not restarted: ${(err as Error).message}.`, values } }, status);
          }
        }),
        { access: "admin", detail: hidden() },
      )
      // Off unless VIGIL_STATUS_PUBLIC=true: then anyone may see which services are up, by name, and nothing else.
      .get(
        "/status",
        async ({ principal }) => {
          if (!ctx.config.statusPublic) return Response.json({ error: "not found", path: "/status" }, { status: 404 });
          const viewer = principal?.kind === "user" ? viewerOf(principal) : null;
          const services = ctx.health
            .services()
            .filter((s) => s.enabled)
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((s) => ({ name: s.name, state: stateOf(ctx.health.latestOf(s.id)) }));
          return htmlPage(<StatusPage viewer={viewer} services={services} />);
        },
        { access: "public", detail: hidden() },
      )
  );
}
