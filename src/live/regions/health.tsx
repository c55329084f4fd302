// Regions of the health pages (the checklist and the service cards of /health; one service's latest result, timeline and checks), rendered by the pages' own components.
import Html from "@kitajs/html";
import { and, gt, isNull, lt, or } from "drizzle-orm";
import type { HealthStatus } from "../../checks/checker.ts";
import { uptimeWindows } from "../../db/schema/index.ts";
import { activeOverrides, currentPreflight } from "../../health/preflight.ts";
import { recentChecks, uptimeReport } from "../../health/store.ts";
import { segments, uptime, type StatusWindow } from "../../health/uptime.ts";
import { SERVICES_ID, ServiceCards } from "../../../views/partials/health/cards.tsx";
import {
  CHECKS_ID,
  LATEST_ID,
  ServiceChecks,
  ServiceLatest,
  ServiceTimeline,
  TIMELINE_ID,
} from "../../../views/partials/health/detail.tsx";
import {
  DAY_MS,
  parseHealthView,
  timelineBar,
  type HealthRegionProps,
  type HealthView,
  type ServiceCardView,
  type ServiceDetailProps,
} from "../../../views/partials/health/model.ts";
import { PREFLIGHT_ID, PreflightChecklist } from "../../../views/partials/health/preflight.tsx";
import type { Region, RenderContext, ViewRegions } from "../views.ts";

/** What /health shows, read once per tick however many health views are open (only `admin` differs between them). */
interface HealthSnapshot {
  preflight: HealthRegionProps["preflight"];
  overrideIds: Map<string, number>;
  cards: ServiceCardView[];
}

/** Every service's status windows over the last 7 days in one query: the cards' uptime and 24-hour bar come from them. */
async function recentWindows(rc: RenderContext): Promise<Map<number, StatusWindow[]>> {
  const from = new Date(rc.now - 7 * DAY_MS);
  const rows = await rc.head.database.db
    .select({
      serviceId: uptimeWindows.serviceId,
      status: uptimeWindows.status,
      startedAt: uptimeWindows.startedAt,
      endedAt: uptimeWindows.endedAt,
      message: uptimeWindows.message,
    })
    .from(uptimeWindows)
    .where(and(lt(uptimeWindows.startedAt, new Date(rc.now + 1)), or(isNull(uptimeWindows.endedAt), gt(uptimeWindows.endedAt, from))))
    .orderBy(uptimeWindows.startedAt);
  const by = new Map<number, StatusWindow[]>();
  for (const r of rows) {
    const list = by.get(r.serviceId) ?? [];
    list.push({
      status: r.status as HealthStatus,
      startedAt: r.startedAt.getTime(),
      endedAt: r.endedAt?.getTime() ?? null,
      message: r.message,
    });
    by.set(r.serviceId, list);
  }
  return by;
}

async function readSnapshot(rc: RenderContext): Promise<HealthSnapshot> {
  const { health, database, config } = rc.head;
  const now = rc.now;
  const [preflight, overrides, workers, windows] = await Promise.all([
    currentPreflight(rc.head),
    activeOverrides(database.db, now),
    rc.workers(),
    recentWindows(rc),
  ]);
  const workerName = new Map(workers.map((w) => [w.id, w.name]));
  // The newest override per item is the one the checklist shows.
  const overrideIds = new Map<string, number>();
  for (const o of [...overrides].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())) overrideIds.set(o.check, o.id);
  const cards = health
    .services()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((service): ServiceCardView => {
      const w = windows.get(service.id) ?? [];
      return {
        service,
        latest: health.latestOf(service.id),
        workerName: service.workerId === null ? null : (workerName.get(service.workerId) ?? null),
        uptime7d: uptime(w, now - 7 * DAY_MS, now, now, config.uptimeDegradedWeight).percent,
        bar: timelineBar(segments(w, now - DAY_MS, now, now), now - DAY_MS, now),
      };
    });
  return { preflight, overrideIds, cards };
}

const perTick = new WeakMap<RenderContext, Promise<HealthSnapshot>>();

function snapshotOf(rc: RenderContext): Promise<HealthSnapshot> {
  let p = perTick.get(rc);
  if (!p) perTick.set(rc, (p = readSnapshot(rc)));
  return p;
}

/** What /health's regions show for a viewer's role, as of the render context's time. */
export async function healthRegionProps(rc: RenderContext, admin: boolean): Promise<HealthRegionProps> {
  const snap = await snapshotOf(rc);
  return { now: rc.now, admin, ...snap };
}

/** One service's page as of the render context's time; undefined when there is no such service (any more). */
export async function serviceDetailProps(rc: RenderContext, serviceId: number, days: number): Promise<ServiceDetailProps | undefined> {
  const { health, database, config } = rc.head;
  const service = health.service(serviceId);
  if (!service) return undefined;
  const now = rc.now;
  const [report, checks, workers] = await Promise.all([
    uptimeReport(database.db, serviceId, now, config.uptimeDegradedWeight, days * DAY_MS),
    recentChecks(database.db, serviceId, 50),
    service.workerId === null ? Promise.resolve([]) : rc.workers(),
  ]);
  return {
    now,
    service,
    latest: health.latestOf(serviceId),
    workerName: workers.find((w) => w.id === service.workerId)?.name ?? null,
    uptime7d: report.uptime7d,
    uptime30d: report.uptime30d,
    days,
    timeline: report.timeline,
    bar: timelineBar(report.timeline, now - days * DAY_MS, now),
    incidents: report.incidents,
    checks,
  };
}

const perTickDetail = new WeakMap<RenderContext, Map<string, Promise<ServiceDetailProps | undefined>>>();

function detailOf(rc: RenderContext, serviceId: number, days: number): Promise<ServiceDetailProps | undefined> {
  let m = perTickDetail.get(rc);
  if (!m) perTickDetail.set(rc, (m = new Map()));
  const key = `${serviceId}:${days}`;
  let p = m.get(key);
  if (!p) m.set(key, (p = serviceDetailProps(rc, serviceId, days)));
  return p;
}

/**
 * A check's result or any change of the services ("health"), workers coming and going (the checklist's "a worker
 * online", the cards' worker names) and the clock ("for 3h 12m", "12s ago") make them stale.
 */
const ON: Region["on"] = ["health", "workers", "clock"];

/** /health's regions for a role (admins' checklist carries the override forms). */
export function healthListRegions(admin: boolean): Region[] {
  return [
    {
      id: PREFLIGHT_ID,
      on: ON,
      render: async (rc) => {
        const p = await healthRegionProps(rc, admin);
        return <PreflightChecklist preflight={p.preflight} overrideIds={p.overrideIds} now={p.now} admin={p.admin} />;
      },
    },
    {
      id: SERVICES_ID,
      on: ON,
      render: async (rc) => {
        const p = await healthRegionProps(rc, admin);
        return <ServiceCards cards={p.cards} now={p.now} />;
      },
    },
  ];
}

/** One service's regions; a removed service renders nothing new (the page keeps what it showed). */
export function serviceRegions(serviceId: number, days: number): Region[] {
  const region = (id: string, on: Region["on"], render: (p: ServiceDetailProps) => JSX.Element): Region => ({
    id,
    on,
    render: async (rc) => {
      const p = await detailOf(rc, serviceId, days);
      return p ? render(p) : "";
    },
  });
  return [
    region(LATEST_ID, ["health", "clock"], (p) => (
      <ServiceLatest service={p.service} latest={p.latest} uptime7d={p.uptime7d} uptime30d={p.uptime30d} now={p.now} />
    )),
    region(TIMELINE_ID, ["health", "clock"], (p) => (
      <ServiceTimeline service={p.service} days={p.days} timeline={p.timeline} bar={p.bar} incidents={p.incidents} now={p.now} />
    )),
    region(CHECKS_ID, ["health"], (p) => <ServiceChecks checks={p.checks} />),
  ];
}

/** "health", "health:admin" or "health:service:<id>:<days>" (see healthViewName). */
export function healthView(regions: (view: HealthView) => readonly Region[]): ViewRegions {
  return (param) => {
    const parsed = parseHealthView(param);
    return parsed ? regions(parsed) : undefined;
  };
}
