// The health pages: /health (the pre-flight checklist and the service cards, live), /health/:id (one service in full), its edit form, and the public /status.
import Html from "@kitajs/html";
import type { ServiceRow } from "../../src/health/loop.ts";
import { assetUrl } from "../../static/index.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";
import { DiagnoseOutput, LogPanel, ServiceActions, type LogView, type RestartFormState } from "../partials/health/actions.tsx";
import { ServiceCards, StateMark } from "../partials/health/cards.tsx";
import { ServiceChecks, ServiceLatest, ServiceSettings, ServiceTimeline } from "../partials/health/detail.tsx";
import { ServiceForm } from "../partials/health/form.tsx";
import type { ServiceFormValues } from "../partials/health/form-model.ts";
import type { HealthRegionProps, ServiceDetailProps, ServiceState } from "../partials/health/model.ts";
import { PreflightChecklist, type OverrideFormState } from "../partials/health/preflight.tsx";

const STYLES = ["health.css"];
const styles = () => STYLES.map((name) => assetUrl(name));

type WorkerChoice = { id: number; name: string };

export interface HealthPageProps extends HealthRegionProps {
  viewer: Viewer;
  workers: readonly WorkerChoice[];
  /** The add form's values and error, when a POST is answered with the page (it then stays open). */
  addForm?: { values: ServiceFormValues; error?: string };
  overrideForm?: OverrideFormState;
  newService: ServiceFormValues;
  notice?: string;
  error?: string;
}

export function HealthPage(props: HealthPageProps): JSX.Element {
  return (
    <Layout title="Service health" viewer={props.viewer} styles={styles()}>
      <div class="health-page">
        <hgroup>
          <h1>Service health</h1>
          <p>Whether Vigil and the services your workers run answer, how long they have, and whether the fleet is ready for work.</p>
        </hgroup>
        <Notice kind="ok" text={props.notice} />
        <Notice kind="error" text={props.error} />
        <PreflightChecklist
          preflight={props.preflight}
          overrideIds={props.overrideIds}
          now={props.now}
          admin={props.admin}
          form={props.overrideForm}
        />
        <ServiceCards cards={props.cards} now={props.now} />
        {props.admin ? (
          <section class="health-section" aria-labelledby="add-service-title">
            <details class="add-service" id="add-service" open={props.addForm?.error ? true : undefined}>
              <summary role="button" class="outline" id="add-service-title">
                Add a service…
              </summary>
              <article>
                <ServiceForm values={props.addForm?.values ?? props.newService} workers={props.workers} error={props.addForm?.error} />
              </article>
            </details>
          </section>
        ) : (
          ""
        )}
      </div>
    </Layout>
  );
}

export interface ServiceDetailPageProps extends ServiceDetailProps {
  viewer: Viewer;
  /** Diagnose's output, when the page answers that POST. */
  diagnosis?: { lines: string[]; at: number };
  /** The log panel, open (`?log=1`, admins). */
  log?: LogView;
  restart?: RestartFormState;
  notice?: string;
  /** A link after the notice (the worker's restarts, after a restart was sent). */
  noticeLink?: { href: string; text: string };
}

function Breadcrumb(props: { service: Pick<ServiceRow, "id" | "name">; last?: string }): JSX.Element {
  return (
    <nav aria-label="Breadcrumb">
      <ul>
        <li>
          <a href={`/health#service-${props.service.id}`}>Health</a>
        </li>
        {props.last ? (
          <>
            <li>
              <a href={`/health/${props.service.id}`} safe>
                {props.service.name}
              </a>
            </li>
            <li safe>{props.last}</li>
          </>
        ) : (
          <li safe>{props.service.name}</li>
        )}
      </ul>
    </nav>
  );
}

export function ServiceDetailPage(props: ServiceDetailPageProps): JSX.Element {
  const s = props.service;
  const admin = props.viewer.role === "admin";
  return (
    <Layout title={s.name} viewer={props.viewer} styles={styles()}>
      <div class="health-page service-detail" data-service={String(s.id)}>
        <Breadcrumb service={s} />
        <h1 safe>{s.name}</h1>
        {props.notice ? (
          <article class="notice notice-ok" role="status">
            <span safe>{props.notice}</span>
            {props.noticeLink ? (
              <>
                {" "}
                <a href={props.noticeLink.href} safe>
                  {props.noticeLink.text}
                </a>
              </>
            ) : (
              ""
            )}
          </article>
        ) : (
          ""
        )}
        <ServiceLatest service={s} latest={props.latest} uptime7d={props.uptime7d} uptime30d={props.uptime30d} now={props.now} />
        {admin ? <ServiceActions service={s} workerName={props.workerName} restart={props.restart} /> : ""}
        <DiagnoseOutput lines={props.diagnosis?.lines} at={props.diagnosis?.at} />
        {admin && props.log ? <LogPanel serviceId={s.id} log={props.log} /> : ""}
        <ServiceTimeline
          service={s}
          days={props.days}
          timeline={props.timeline}
          bar={props.bar}
          incidents={props.incidents}
          now={props.now}
        />
        <ServiceChecks checks={props.checks} />
        <ServiceSettings service={s} workerName={props.workerName} />
      </div>
    </Layout>
  );
}

export function ServiceEditPage(props: {
  viewer: Viewer;
  service: ServiceRow;
  values: ServiceFormValues;
  workers: readonly WorkerChoice[];
  error?: string;
}): JSX.Element {
  return (
    <Layout title={`Edit ${props.service.name}`} viewer={props.viewer} styles={styles()}>
      <div class="health-page">
        <Breadcrumb service={props.service} last="Edit" />
        <h1 safe>{`Edit ${props.service.name}`}</h1>
        <ServiceForm id={props.service.id} values={props.values} workers={props.workers} error={props.error} />
      </div>
    </Layout>
  );
}

/** /status: names and states only, for anyone (when VIGIL_STATUS_PUBLIC is on). Anonymous visitors get no navigation. */
export function StatusPage(props: { viewer: Viewer | null; services: readonly { name: string; state: ServiceState }[] }): JSX.Element {
  const problems = props.services.filter((s) => s.state === "down" || s.state === "degraded").length;
  return (
    <Layout title="Status" viewer={props.viewer} styles={styles()}>
      <div class="health-page status-page">
        <h1>Status</h1>
        <p class={`status-verdict ${problems === 0 ? "verdict-ready" : "verdict-not-ready"}`} safe>
          {props.services.length === 0
            ? "No service is checked."
            : problems === 0
              ? "All services are operating normally."
              : `${problems} of ${props.services.length} services have a problem.`}
        </p>
        <ul class="status-list">
          {props.services.map((s) => (
            <li class={`status-item state-${s.state}`}>
              <span class="status-name" safe>
                {s.name}
              </span>
              <StateMark state={s.state} />
            </li>
          ))}
        </ul>
      </div>
    </Layout>
  );
}
