// Admins' quick actions on a service's page: re-check, diagnose (with its output), the log viewer that follows new lines, restart with a confirmation, edit and delete.
import Html from "@kitajs/html";
import type { ServiceRow } from "../../../src/health/loop.ts";
import { formatAt } from "../../components/format.ts";
import { logSourceOf, unitOf } from "./model.ts";

export const DIAGNOSE_ID = "service-diagnose";
export const LOG_ID = "service-log";
/** How often an open log panel reads the log again. */
export const LOG_FOLLOW_SECONDS = 5;
export const LOG_LINES = 100;

/** The log as last read: its lines oldest first, or why it could not be read. */
export interface LogView {
  source: string;
  lines: string[];
  note: string | null;
  error?: string;
  at: number;
}

export interface RestartFormState {
  error?: string;
  values?: { reason?: string; force?: boolean };
}

/** Why the log viewer or restart cannot be offered for the service, or null when it can. */
export function logUnavailable(s: ServiceRow): string | null {
  if (!logSourceOf(s)) return "no log source: set one (unit:NAME or a file path) under Edit";
  if (s.workerId === null) return "it runs on no worker: logs are read by a worker's agent";
  return null;
}

function restartUnavailable(s: ServiceRow): string | null {
  if (!unitOf(s) || s.workerId === null) return "it is not a systemd unit on a worker";
  return null;
}

/** The unit as the agent wants it: "vllm" is "vllm.service". */
export function unitName(unit: string): string {
  return unit.includes(".") ? unit : `${unit}.service`;
}

/** `#service-diagnose`: what the checker's longer look tried and found, line by line (a POST's answer, so no live region). */
export function DiagnoseOutput(props: { lines: readonly string[] | undefined; at?: number }): JSX.Element {
  if (!props.lines) return <></>;
  return (
    <section id={DIAGNOSE_ID} class="health-section diagnose" aria-labelledby="diagnose-title">
      <h2 id="diagnose-title">Diagnosis</h2>
      <p class="muted" safe>
        {`Run ${props.at ? formatAt(props.at) : "just now"}; nothing was recorded as a check.`}
      </p>
      <pre class="output" tabindex="0" aria-label="Diagnosis output" safe>
        {props.lines.join("\n")}
      </pre>
    </section>
  );
}

/**
 * `#service-log`: the last lines of the service's log. While it is on the page it asks for itself again every few
 * seconds (htmx polling, hx-trigger "every"), so new lines appear; closing it (a link back to the page) stops that. The
 * live stream is not used for it: a region is rendered for every viewer of a view, and the log is for admins only.
 */
export function LogPanel(props: { serviceId: number; log: LogView }): JSX.Element {
  const l = props.log;
  const self = `/health/${props.serviceId}/log?follow=1`;
  const text: string = l.lines.length > 0 ? l.lines.join("\n") : l.error ? "" : "(no lines)";
  return (
    <section
      id={LOG_ID}
      class="health-section log-panel"
      aria-labelledby="service-log-title"
      hx-get={self}
      hx-trigger={`every ${LOG_FOLLOW_SECONDS}s`}
      hx-swap="outerHTML"
    >
      <h2 id="service-log-title">Log</h2>
      <p class="log-source">
        <code safe>{l.source}</code>{" "}
        <small class="muted" safe>
          {`last ${LOG_LINES} lines, read ${formatAt(l.at)}; read again every ${LOG_FOLLOW_SECONDS} s while open`}
        </small>{" "}
        <a href={`/health/${props.serviceId}`} class="secondary">
          Close the log
        </a>
      </p>
      {l.error ? (
        <p class="notice notice-error" role="alert" safe>
          {`Could not read the log: ${l.error}`}
        </p>
      ) : (
        ""
      )}
      {l.note ? (
        <p class="muted" safe>
          {l.note}
        </p>
      ) : (
        ""
      )}
      {/* column-reverse keeps the view at the newest line, with no script, as lines arrive. */}
      <div class="log-lines" tabindex="0" role="region" aria-label="Log lines, newest at the bottom">
        <pre safe>{text}</pre>
      </div>
    </section>
  );
}

function RestartDialog(props: { service: ServiceRow; workerName: string | null; form?: RestartFormState }): JSX.Element {
  const s = props.service;
  const unit = unitName(unitOf(s) ?? "");
  const v = props.form?.values ?? {};
  return (
    <details class="confirm-dialog" id="restart" open={props.form?.error ? true : undefined}>
      <summary role="button" class="outline">
        Restart…
      </summary>
      <article>
        {props.form?.error ? (
          <p class="notice notice-error" role="alert" safe>
            {props.form.error}
          </p>
        ) : (
          ""
        )}
        <form method="post" action={`/health/${s.id}/restart`} class="restart-form">
          <p safe>
            {`This asks the agent on ${props.workerName ?? `worker ${s.workerId}`} to restart ${unit}, as the worker's own restart does (only units on the agent's allow-list).`}
          </p>
          <label>
            Reason <small>(kept in the audit log)</small>
            <textarea name="reason" rows="2" maxlength="2000" placeholder="hung after an out-of-memory error" safe>
              {v.reason ?? ""}
            </textarea>
          </label>
          <label>
            <input type="checkbox" name="force" value="on" role="switch" checked={v.force ? true : undefined} />
            Force: restart at once, without waiting for its GPU jobs to finish
          </label>
          <button type="submit" class="restart-confirm">
            Yes, restart
          </button>
        </form>
      </article>
    </details>
  );
}

function DeleteDialog(props: { service: ServiceRow }): JSX.Element {
  const s = props.service;
  return (
    <details class="confirm-dialog" id="delete">
      <summary role="button" class="outline contrast">
        Delete…
      </summary>
      <article>
        <form method="post" action={`/health/${s.id}/delete`}>
          <p safe>{`${s.name} stops being checked, and its results, uptime history and alerts are removed.`}</p>
          <button type="submit" class="contrast delete-confirm" safe>
            {`Yes, delete ${s.name}`}
          </button>
        </form>
      </article>
    </details>
  );
}

/** Admins only (the caller decides). Plain forms; re-check posts in place with htmx, and the live regions show the result. */
export function ServiceActions(props: { service: ServiceRow; workerName: string | null; restart?: RestartFormState }): JSX.Element {
  const s = props.service;
  const id = s.id;
  const noLog = logUnavailable(s);
  const noRestart = restartUnavailable(s);
  return (
    <section class="health-section service-actions" aria-labelledby="service-actions-title">
      <h2 id="service-actions-title">Actions</h2>
      <div class="action-bar">
        <form method="post" action={`/health/${id}/check`} class="inline" hx-post={`/health/${id}/check`} hx-swap="none">
          <button type="submit" class="recheck">
            Re-check now
          </button>
        </form>
        <form method="post" action={`/health/${id}/diagnose#${DIAGNOSE_ID}`} class="inline">
          <button type="submit" class="outline diagnose-button">
            Diagnose
          </button>
        </form>
        {noLog ? (
          ""
        ) : (
          <a href={`/health/${id}?log=1#${LOG_ID}`} role="button" class="outline view-log">
            View log
          </a>
        )}
        <a href={`/health/${id}/edit`} role="button" class="outline secondary">
          Edit
        </a>
      </div>
      {noLog ? <p class="muted" safe>{`No log viewer: ${noLog}.`}</p> : ""}
      {noRestart ? (
        <>
          {props.restart?.error ? (
            <p class="notice notice-error" role="alert" safe>
              {props.restart.error}
            </p>
          ) : (
            ""
          )}
          <p class="muted" safe>{`No restart: ${noRestart}.`}</p>
        </>
      ) : (
        <RestartDialog service={s} workerName={props.workerName} form={props.restart} />
      )}
      <DeleteDialog service={s} />
    </section>
  );
}
