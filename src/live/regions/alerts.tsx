// Regions of the alerts page (firing, pending, no data, silences), rendered by the page's own components from the engine's open alerts.
import Html from "@kitajs/html";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { OpenAlert } from "../../alerts/evaluate.ts";
import { BUILTIN_DEFAULTS, type BuiltinKind, type RuleSet } from "../../alerts/rules.ts";
import { listSilences } from "../../alerts/store.ts";
import { alertEvents, gpus } from "../../db/schema/index.ts";
import {
  parseAlertsView,
  type AlertFilter,
  type AlertsRegionProps,
  type OpenAlertView,
  type SilenceView,
} from "../../../views/partials/alerts/model.ts";
import { FiringAlerts, NodataAlerts, PendingAlerts } from "../../../views/partials/alerts/open.tsx";
import { SilenceList } from "../../../views/partials/alerts/silences.tsx";
import type { Region, RenderContext, ViewRegions } from "../views.ts";

/** Everything open and every silence not over, unfiltered: read once per tick however many alerts views are open. */
interface AlertsSnapshot {
  open: OpenAlertView[];
  silences: SilenceView[];
}

/** How long the rule makes an alert wait in pending; null when the rule is gone or off (the alert then closes). */
function forSecondsOf(rules: RuleSet, a: OpenAlert): number | null {
  if (a.rule.startsWith("threshold:")) {
    if (a.workerId === null) return null;
    const r = rules.resolve(a.rule.slice("threshold:".length), a.workerId, a.gpuUuid);
    return r?.enabled ? r.forSeconds : null;
  }
  const kind = a.rule.slice("builtin:".length);
  if (!a.rule.startsWith("builtin:") || !BUILTIN_DEFAULTS.some((d) => d.kind === kind)) return null;
  const b = rules.builtin(kind as BuiltinKind);
  return b.enabled ? b.forSeconds : null;
}

async function readSnapshot(rc: RenderContext): Promise<AlertsSnapshot> {
  const { alerts: engine, database } = rc.head;
  const db = database.db;
  const open = engine.list().filter((a): a is OpenAlert & { id: number } => a.id !== null);
  const uuids = [...new Set(open.flatMap((a) => (a.gpuUuid ? [a.gpuUuid] : [])))];
  const nodataIds = open.filter((a) => a.state === "nodata").map((a) => a.id);
  const [workers, gpuRows, nodataRows, silenceRows] = await Promise.all([
    rc.workers(),
    uuids.length
      ? db.select({ workerId: gpus.workerId, uuid: gpus.uuid, name: gpus.name }).from(gpus).where(inArray(gpus.uuid, uuids))
      : Promise.resolve([]),
    nodataIds.length
      ? db
          .select({ alertId: alertEvents.alertId, at: sql<string>`max(${alertEvents.at})` })
          .from(alertEvents)
          .where(and(eq(alertEvents.kind, "nodata"), inArray(alertEvents.alertId, nodataIds)))
          .groupBy(alertEvents.alertId)
      : Promise.resolve([]),
    listSilences(db, new Date(rc.now)),
  ]);
  const worker = new Map(workers.map((w) => [w.id, w]));
  const gpuName = new Map(gpuRows.map((g) => [`${g.workerId}/${g.uuid}`, g.name]));
  const nodataSince = new Map(nodataRows.map((r) => [r.alertId, new Date(r.at).getTime()]));
  return {
    open: open.map((a) => {
      const forSeconds = a.state === "pending" ? forSecondsOf(engine.rules, a) : null;
      return {
        alert: a,
        workerName:
          a.workerId === null || a.serviceId !== null
            ? engine.subjectName(a)
            : (worker.get(a.workerId)?.name ?? engine.workerName(a.workerId)),
        workerStatus: a.workerId === null ? undefined : worker.get(a.workerId)?.status,
        gpuName: a.gpuUuid ? (gpuName.get(`${a.workerId}/${a.gpuUuid}`) ?? null) : null,
        quiet: a.state === "firing" ? engine.suppressedBy(a, rc.now) : null,
        firesAt: forSeconds === null ? null : a.startedAt + forSeconds * 1000,
        nodataSince: nodataSince.get(a.id) ?? null,
      };
    }),
    silences: silenceRows.map((row) => ({ row, workerName: row.workerId === null ? null : (worker.get(row.workerId)?.name ?? null) })),
  };
}

const perTick = new WeakMap<RenderContext, Promise<AlertsSnapshot>>();

function snapshotOf(rc: RenderContext): Promise<AlertsSnapshot> {
  let p = perTick.get(rc);
  if (!p) perTick.set(rc, (p = readSnapshot(rc)));
  return p;
}

const SEVERITY_RANK = { critical: 0, warning: 1 } as const;

/** What the page's regions show for a viewer's role and filter, as of the render context's time. */
export async function alertsRegionProps(rc: RenderContext, admin: boolean, f: AlertFilter): Promise<AlertsRegionProps> {
  const snap = await snapshotOf(rc);
  const shown = snap.open.filter(
    (v) => (f.workerId === null || v.alert.workerId === f.workerId) && (f.rule === null || v.alert.rule === f.rule),
  );
  const of = (state: OpenAlert["state"]) => shown.filter((v) => v.alert.state === state);
  const byName = (a: OpenAlertView, b: OpenAlertView) => a.workerName.localeCompare(b.workerName) || a.alert.id - b.alert.id;
  return {
    now: rc.now,
    admin,
    // The worst first, then the newest.
    firing: of("firing").sort(
      (a, b) =>
        SEVERITY_RANK[a.alert.severity] - SEVERITY_RANK[b.alert.severity] ||
        (b.alert.firedAt ?? b.alert.startedAt) - (a.alert.firedAt ?? a.alert.startedAt) ||
        b.alert.id - a.alert.id,
    ),
    // The next to fire first.
    pending: of("pending").sort((a, b) => (a.firesAt ?? Infinity) - (b.firesAt ?? Infinity) || byName(a, b)),
    // Grouped by worker: an offline worker's alerts sit together.
    nodata: of("nodata").sort(byName),
    silences: snap.silences.filter(
      (s) =>
        (f.workerId === null || s.row.workerId === null || s.row.workerId === f.workerId) &&
        (f.rule === null || s.row.rule === null || s.row.rule === f.rule),
    ),
  };
}

/** Any alert changing, a worker renamed or gone, and the clock (durations, silences running out) make them stale. */
const ON: Region["on"] = ["alerts", "workers", "clock"];

/** The alerts page's regions for a role (admins' rows carry buttons) and the page's filter. */
export function alertsRegions(admin: boolean, f: AlertFilter): Region[] {
  const region = (id: string, render: (p: AlertsRegionProps) => JSX.Element): Region => ({
    id,
    on: ON,
    render: async (rc) => render(await alertsRegionProps(rc, admin, f)),
  });
  return [
    region("alerts-firing", (p) => <FiringAlerts firing={p.firing} now={p.now} admin={p.admin} />),
    region("alerts-pending", (p) => <PendingAlerts pending={p.pending} now={p.now} />),
    region("alerts-nodata", (p) => <NodataAlerts nodata={p.nodata} now={p.now} />),
    region("alerts-silences", (p) => <SilenceList silences={p.silences} now={p.now} admin={p.admin} />),
  ];
}

/** "alerts" or "alerts:<admin|viewer>[:w<id>][:<rule>]" (see alertsViewName). */
export function alertsView(regions: (admin: boolean, f: AlertFilter) => readonly Region[]): ViewRegions {
  return (param) => {
    const parsed = parseAlertsView(param);
    return parsed ? regions(parsed.admin, parsed.filter) : undefined;
  };
}
