// The alerts page (/alerts): firing, pending and no data (live), silences and maintenance windows, the history; and one alert in full (/alerts/:id).
import Html from "@kitajs/html";
import { ruleLabel } from "../../src/alerts/message.ts";
import { assetUrl } from "../../static/index.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";
import { AlertsNav } from "../partials/alert-config/nav.tsx";
import { AlertDeliveries, AlertEvents, AlertFacts, type AlertDetail } from "../partials/alerts/detail.tsx";
import { AlertHistory, type AlertHistoryProps } from "../partials/alerts/history.tsx";
import type { AlertFilter, AlertsRegionProps } from "../partials/alerts/model.ts";
import { FiringAlerts, NodataAlerts, PendingAlerts } from "../partials/alerts/open.tsx";
import { SilenceForms, SilenceList, type SilenceFormsProps } from "../partials/alerts/silences.tsx";

const STYLES = ["alerts.css"];

export interface AlertsPageProps extends AlertsRegionProps {
  viewer: Viewer;
  filter: AlertFilter;
  workers: readonly { id: number; name: string }[];
  rules: readonly { value: string; label: string }[];
  history: Pick<AlertHistoryProps, "rows" | "filter" | "older" | "paged">;
  /** The silence forms' last error and values, when a POST is answered with the page. */
  forms?: Pick<SilenceFormsProps, "silence" | "maintenance">;
  notice?: string;
  error?: string;
}

function filterText(f: AlertFilter, workers: AlertsPageProps["workers"]): string {
  const parts: string[] = [];
  if (f.workerId !== null) parts.push(workers.find((w) => w.id === f.workerId)?.name ?? `worker ${f.workerId}`);
  if (f.rule !== null) parts.push(ruleLabel(f.rule).label);
  return parts.join(" · ");
}

export function AlertsPage(props: AlertsPageProps): JSX.Element {
  const filtered = filterText(props.filter, props.workers);
  const shownAbove = new Set([...props.firing, ...props.pending, ...props.nodata].map((v) => v.alert.id));
  return (
    <Layout title="Alerts" viewer={props.viewer} styles={STYLES.map((name) => assetUrl(name))}>
      <div class="alerts-page">
        {/* Thresholds and channels are admins' pages. */}
        {props.admin ? <AlertsNav current="/alerts" /> : ""}
        <hgroup>
          <h1>Alerts</h1>
          {filtered ? (
            <p>
              <span safe>{`Only ${filtered}. `}</span>
              <a href="/alerts">Show every alert</a>
            </p>
          ) : (
            <p>What is firing now, what may fire soon, and what happened before.</p>
          )}
        </hgroup>
        <Notice kind="ok" text={props.notice} />
        <Notice kind="error" text={props.error} />
        <FiringAlerts firing={props.firing} now={props.now} admin={props.admin} />
        <PendingAlerts pending={props.pending} now={props.now} />
        <NodataAlerts nodata={props.nodata} now={props.now} />
        <section id="silences" class="alerts-section" aria-labelledby="silences-title">
          <h2 id="silences-title">Silences and maintenance windows</h2>
          <SilenceList silences={props.silences} now={props.now} admin={props.admin} />
          {props.admin ? <SilenceForms workers={props.workers} rules={props.rules} {...props.forms} /> : ""}
        </section>
        <AlertHistory {...props.history} workers={props.workers} rules={props.rules} shownAbove={shownAbove} now={props.now} />
      </div>
    </Layout>
  );
}

export function AlertDetailPage(props: { viewer: Viewer; detail: AlertDetail; gpuName: string | null; now: number }): JSX.Element {
  const a = props.detail.alert;
  const title = `Alert #${a.id}: ${ruleLabel(a.rule).label}`;
  return (
    <Layout title={title} viewer={props.viewer} styles={STYLES.map((name) => assetUrl(name))}>
      <div class="alerts-page alert-detail" data-alert={String(a.id)}>
        <nav aria-label="Breadcrumb">
          <ul>
            <li>
              <a href={`/alerts#alert-${a.id}`}>Alerts</a>
            </li>
            <li safe>{`#${a.id}`}</li>
          </ul>
        </nav>
        <h1 safe>{title}</h1>
        <AlertFacts d={props.detail} gpuName={props.gpuName} now={props.now} admin={props.viewer.role === "admin"} />
        <AlertEvents d={props.detail} />
        <AlertDeliveries d={props.detail} />
      </div>
    </Layout>
  );
}
