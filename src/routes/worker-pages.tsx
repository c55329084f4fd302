// The worker page: GET /workers/:id (by id or name) and the admins' no-script restart form, POST /workers/:id/restart.
import { Elysia } from "elysia";
import { dashboardThresholds } from "../alerts/thresholds.ts";
import { actorOf, type Principal } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import type { GpuRecord } from "../fleet/gpus.ts";
import { requestRestart, WorkerNotConnected } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import { parseMetrics } from "../history/params.ts";
import { queryStats, statsTier } from "../history/stats.ts";
import { fleetStatus } from "../live/regions/fleet-status.tsx";
import { RenderContext } from "../live/views.ts";
import { workerData, workerViewName } from "../live/regions/worker.tsx";
import { retentionOf } from "../retention/loop.ts";
import { WorkerPage, type WorkerPageProps } from "../../views/pages/worker.tsx";
import { NotFoundPage } from "../../views/pages/not-found.tsx";
import { DEFAULT_RANGE, HISTORY_METRICS, historyRange } from "../../views/partials/worker/history.tsx";
import { gpuChoices, resolveSelection } from "../../views/partials/worker/model.ts";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { decodeKey, field, htmlPage, redirect } from "./respond.ts";
import { findWorker, type WorkerSummary } from "../fleet/workers.ts";
import { viewerOf } from "./viewer.ts";

type PageExtras = Pick<WorkerPageProps, "notice" | "error" | "restartForm">;

export function workerPageRoutes(ctx: HeadContext) {
  const retention = retentionOf(ctx.config);

  /**
   * The history summary of the page's GPUs, one metric per query: queryStats reads its rows with Object.values, and the
   * unnamed aggregate columns of several metrics share names ("min", "max", …), so a multi-metric query mixes them up
   * (utilization came back as the power draw). One metric per query keeps the names distinct.
   */
  async function summary(workerId: number, gpus: GpuRecord[], range: { since: Date; until: Date }, tier: ReturnType<typeof statsTier>) {
    const parts = await Promise.all(
      HISTORY_METRICS.map((m) => queryStats(ctx.database, workerId, gpus, parseMetrics(`gpu.${m}`, false), range, tier)),
    );
    const merged = parts[0]!;
    for (const part of parts.slice(1)) {
      part.gpus.forEach((g, i) => Object.assign(merged.gpus[i]!.metrics, g.metrics));
    }
    return merged;
  }

  async function renderPage(principal: Principal | null, key: string, url: URL, extras: PageExtras = {}, status = 200): Promise<Response> {
    const rc = new RenderContext(ctx);
    const list = await rc.workers();
    const viewer = { ...viewerOf(principal), fleetStatus: await fleetStatus(rc) };
    const worker = findWorker(list, key);
    if (!worker)
      return htmlPage(
        <NotFoundPage viewer={viewer} what="worker" by="id or name" asked={key} back={{ href: "/", text: "Back to the fleet" }} />,
        404,
      );
    const data = await workerData(ctx, worker.id);
    const now = new Date(rc.now);
    const picked = resolveSelection(url.searchParams.get("gpu"), gpuChoices(data.sample, data.gpus));
    const { range, problem } = historyRange(url.searchParams, now);
    const selection = picked.selection;
    const statsGpus =
      selection.kind === "all" ? data.gpus : selection.kind === "one" ? data.gpus.filter((g) => g.index === selection.index) : [];
    const stats = statsGpus.length
      ? await summary(worker.id, statsGpus, { since: range.sinceDate, until: range.untilDate }, statsTier(range.sinceDate, retention, now))
      : null;
    const rangeQuery =
      range.key === "custom"
        ? new URLSearchParams({ since: range.since, ...(range.until ? { until: range.until } : {}) }).toString()
        : range.key === DEFAULT_RANGE
          ? ""
          : `range=${range.key}`;
    return htmlPage(
      <WorkerPage
        viewer={{ ...viewer, live: workerViewName(worker.id, url.searchParams.get("gpu")) }}
        worker={worker}
        sample={data.sample}
        gpus={data.gpus}
        restarts={data.restarts}
        thresholds={dashboardThresholds(ctx.alerts.rules, worker.id)}
        now={rc.now}
        selection={selection}
        info={data.info}
        services={data.services}
        connected={data.connected}
        history={{ range, stats, problem }}
        rangeQuery={rangeQuery}
        notice={extras.notice}
        error={[picked.problem, extras.error].filter(Boolean).join(" ") || undefined}
        restartForm={extras.restartForm}
      />,
      status,
    );
  }

  return new Elysia({ name: "worker-pages", prefix: "/workers" })
    .use(guard(ctx))
    .get(
      "/:id",
      ({ params, principal, request }) => {
        const url = new URL(request.url);
        const restarted = url.searchParams.get("restarted");
        const notice =
          restarted && /^\d{1,9}$/.test(restarted) ? `Restart #${restarted} sent; its progress shows under Restarts.` : undefined;
        return renderPage(principal, decodeKey(params.id), url, { notice });
      },
      { access: "viewer", detail: hidden() },
    )
    .post(
      "/:id/restart",
      async ({ params, body, principal, client, request }) => {
        const key = decodeKey(params.id);
        const url = new URL(request.url);
        const worker = findWorker(await new RenderContext(ctx).workers(), key);
        if (!worker) return renderPage(principal, key, url, {}, 404);
        const values = { service: field(body, "service"), reason: field(body, "reason"), force: field(body, "force") === "on" };
        try {
          const row = await requestRestart(ctx.database.db, ctx.sessions, actorOf(principal, client.ip), worker.id, values);
          // 303 to the page: a reload does not restart again, and the restart region shows its progress.
          return redirect(`/workers/${worker.id}?restarted=${row.id}#restart-status`);
        } catch (err) {
          const status = err instanceof WorkerNotConnected ? 409 : err instanceof InputError ? 400 : 0;
          if (!status) throw err;
          const error = `Not restarted: ${(err as Error).message}.`;
          return renderPage(principal, key, url, { restartForm: { error, values } }, status);
        }
      },
      { access: "admin", detail: hidden() },
    );
}
