// The open alerts on the alerts page: firing, pending and no data, one live region each (src/live/regions/alerts.tsx).
import Html from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import type { Severity } from "../../../src/alerts/notification.ts";
import { formatAt, formatValue, QUIET_WORDS, span, type AlertsRegionProps, type OpenAlertView } from "./model.ts";

export function SeverityMark(props: { severity: Severity | string }): JSX.Element {
  return (
    <mark class={`severity severity-${props.severity === "critical" ? "critical" : "warning"}`} safe>
      {props.severity}
    </mark>
  );
}

/** A time relative to now, with the instant in its tooltip. */
export function Since(props: { at: number; now: number; suffix?: string }): JSX.Element {
  return (
    <time datetime={new Date(props.at).toISOString()} title={formatAt(props.at)} safe>
      {`${span(props.at, props.now)}${props.suffix ?? ""}`}
    </time>
  );
}

/** `label`: the column's name, shown beside the value where narrow screens stack a row's cells. */
function WorkerCell(props: { v: OpenAlertView; label: string }): JSX.Element {
  return (
    <td data-label={props.label} class="text">
      <a href={`/workers/${props.v.alert.workerId}`} safe>
        {props.v.workerName}
      </a>
    </td>
  );
}

/** "GPU 3 · NVIDIA H100 80GB HBM3", or "host" for a worker-wide rule. */
export function gpuText(gpuIndex: number | null, gpuName: string | null): string {
  if (gpuIndex === null) return "host";
  return gpuName ? `GPU ${gpuIndex} · ${gpuName}` : `GPU ${gpuIndex}`;
}

function RuleCell(props: { v: OpenAlertView; label: string }): JSX.Element {
  const a = props.v.alert;
  return (
    <td data-label={props.label} class="text">
      <a href={`/alerts/${a.id}`} title="Events and deliveries of this alert" safe>
        {ruleLabel(a.rule).label}
      </a>
    </td>
  );
}

/** Whether channels heard of it, and if not, why not; whether they must stay quiet now. */
export function toldText(v: OpenAlertView, now: number): string {
  const a = v.alert;
  const quiet = v.quiet ? (QUIET_WORDS[v.quiet] ?? v.quiet) : null;
  if (a.notifiedSeverity === null) return quiet ? `not told: ${quiet}` : "not told yet";
  const as = a.notifiedSeverity !== a.severity ? ` as ${a.notifiedSeverity}` : "";
  const when = a.notifiedAt !== null ? ` ${span(a.notifiedAt, now)} ago` : "";
  const tier = a.tier > 1 ? `, escalated to tier ${a.tier}` : "";
  return `told${as}${when}${tier}${quiet ? `; quiet now: ${quiet}` : ""}`;
}

/**
 * Admins' acknowledge button: a plain form; on the live alerts page htmx posts it in place and the region shows the
 * result. `back="detail"`: from the alert's own page (no htmx there), which the answer then redirects to.
 */
export function AckForm(props: { id: number; back?: "detail" }): JSX.Element {
  const action = `/alerts/${props.id}/ack`;
  return props.back ? (
    <form method="post" action={action} class="inline">
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class="outline ack-button">
        Acknowledge
      </button>
    </form>
  ) : (
    <form method="post" action={action} class="inline" hx-post={action} hx-swap="none">
      <button type="submit" class="outline ack-button">
        Acknowledge
      </button>
    </form>
  );
}

function AckCell(props: { v: OpenAlertView; now: number; admin: boolean; label: string }): JSX.Element {
  const a = props.v.alert;
  if (a.ackedAt !== null)
    return (
      <td data-label={props.label} class="text acked" safe>
        {`acknowledged by ${a.ackedBy ?? "someone"} ${span(a.ackedAt, props.now)} ago`}
      </td>
    );
  return <td data-label={props.label}>{props.admin ? <AckForm id={a.id} /> : <span class="muted">not acknowledged</span>}</td>;
}

function Empty(props: { text: string }): JSX.Element {
  return (
    <p class="alerts-empty" safe>
      {props.text}
    </p>
  );
}

function count(n: number): string {
  return n === 0 ? "" : ` (${n})`;
}

export function FiringAlerts(props: Pick<AlertsRegionProps, "firing" | "now" | "admin">): JSX.Element {
  return (
    <section id="alerts-firing" class="alerts-section" aria-labelledby="alerts-firing-title">
      <h2 id="alerts-firing-title" safe>{`Firing${count(props.firing.length)}`}</h2>
      {props.firing.length === 0 ? (
        <Empty text="Nothing is firing." />
      ) : (
        <div class="overflow-auto">
          <table class="alerts-table striped">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Worker</th>
                <th scope="col">GPU</th>
                <th scope="col">Rule</th>
                <th scope="col">Value</th>
                <th scope="col">Threshold</th>
                <th scope="col">Firing for</th>
                <th scope="col">Notified</th>
                <th scope="col">Acknowledged</th>
              </tr>
            </thead>
            <tbody>
              {props.firing.map((v) => {
                const a = v.alert;
                const { unit } = ruleLabel(a.rule);
                return (
                  <tr id={`alert-${a.id}`} class={`alert-row severity-${a.severity}`} data-alert={String(a.id)}>
                    <td data-label="Severity">
                      <SeverityMark severity={a.severity} />
                    </td>
                    <WorkerCell label="Worker" v={v} />
                    <td data-label="GPU" class="text" safe>
                      {gpuText(a.gpuIndex, v.gpuName)}
                    </td>
                    <RuleCell label="Rule" v={v} />
                    <td data-label="Value" class="num" safe>
                      {formatValue(a.value, unit)}
                    </td>
                    <td data-label="Threshold" class="num" safe>
                      {formatValue(a.threshold, unit)}
                    </td>
                    <td data-label="Firing for">
                      <Since at={a.firedAt ?? a.startedAt} now={props.now} />
                    </td>
                    <td data-label="Notified" class={`text told ${a.notifiedSeverity === null ? "told-not" : "told-yes"}`} safe>
                      {toldText(v, props.now)}
                    </td>
                    <AckCell label="Acknowledged" v={v} now={props.now} admin={props.admin} />
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** "in 1m 20s if it holds", or "at the next sample" once its `for` has passed. */
export function firesText(v: OpenAlertView, now: number): string {
  if (v.firesAt === null) return "its rule is gone: it closes with the next sample";
  return v.firesAt <= now ? "at the next sample if it still holds" : `in ${span(now, v.firesAt)} if it holds`;
}

export function PendingAlerts(props: Pick<AlertsRegionProps, "pending" | "now">): JSX.Element {
  return (
    <section id="alerts-pending" class="alerts-section" aria-labelledby="alerts-pending-title">
      <h2 id="alerts-pending-title" safe>{`Pending${count(props.pending.length)}`}</h2>
      {props.pending.length === 0 ? (
        <Empty text="Nothing is pending: no rule is past its level and waiting out its duration." />
      ) : (
        <div class="overflow-auto">
          <table class="alerts-table striped">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Worker</th>
                <th scope="col">GPU</th>
                <th scope="col">Rule</th>
                <th scope="col">Value</th>
                <th scope="col">Threshold</th>
                <th scope="col">Past the level for</th>
                <th scope="col">Fires</th>
              </tr>
            </thead>
            <tbody>
              {props.pending.map((v) => {
                const a = v.alert;
                const { unit } = ruleLabel(a.rule);
                return (
                  <tr id={`alert-${a.id}`} class={`alert-row severity-${a.severity}`} data-alert={String(a.id)}>
                    <td data-label="Severity">
                      <SeverityMark severity={a.severity} />
                    </td>
                    <WorkerCell label="Worker" v={v} />
                    <td data-label="GPU" class="text" safe>
                      {gpuText(a.gpuIndex, v.gpuName)}
                    </td>
                    <RuleCell label="Rule" v={v} />
                    <td data-label="Value" class="num" safe>
                      {formatValue(a.value, unit)}
                    </td>
                    <td data-label="Threshold" class="num" safe>
                      {formatValue(a.threshold, unit)}
                    </td>
                    <td data-label="Past the level for">
                      <Since at={a.startedAt} now={props.now} />
                    </td>
                    <td data-label="Fires" class="text" safe>
                      {firesText(v, props.now)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Why no data comes: the worker is away, or it reports but not this reading (a GPU gone, a metric no longer sent). */
function nodataWhy(v: OpenAlertView): string {
  if (v.workerStatus === "offline" || v.workerStatus === "never-seen") return "worker offline";
  if (v.workerStatus === "stale") return "worker late";
  return v.alert.gpuIndex !== null ? "the GPU no longer reports it" : "the worker no longer reports it";
}

export function NodataAlerts(props: Pick<AlertsRegionProps, "nodata" | "now">): JSX.Element {
  return (
    <section id="alerts-nodata" class="alerts-section" aria-labelledby="alerts-nodata-title">
      <h2 id="alerts-nodata-title" safe>{`No data${count(props.nodata.length)}`}</h2>
      {props.nodata.length === 0 ? (
        <Empty text="Every open alert has data." />
      ) : (
        <>
          <p class="alerts-help">
            These alerts stopped getting readings. They are not resolved: each goes back to what it was as soon as data returns.
          </p>
          <div class="overflow-auto">
            <table class="alerts-table striped">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Worker</th>
                  <th scope="col">GPU</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Was</th>
                  <th scope="col">Last value</th>
                  <th scope="col">No data</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {props.nodata.map((v) => {
                  const a = v.alert;
                  const { unit } = ruleLabel(a.rule);
                  return (
                    <tr id={`alert-${a.id}`} class="alert-row nodata" data-alert={String(a.id)}>
                      <td data-label="Severity">
                        <SeverityMark severity={a.severity} />
                      </td>
                      <WorkerCell label="Worker" v={v} />
                      <td data-label="GPU" class="text" safe>
                        {gpuText(a.gpuIndex, v.gpuName)}
                      </td>
                      <RuleCell label="Rule" v={v} />
                      <td data-label="Was">{a.stateBeforeNodata ?? "pending"}</td>
                      <td data-label="Last value" class="num" safe>
                        {formatValue(a.value, unit)}
                      </td>
                      <td data-label="No data" class="text">
                        {v.nodataSince === null ? (
                          "no data"
                        ) : (
                          <>
                            {"no data since "}
                            <time datetime={new Date(v.nodataSince).toISOString()} safe>
                              {formatAt(v.nodataSince)}
                            </time>
                            <span safe>{` (${span(v.nodataSince, props.now)} ago)`}</span>
                          </>
                        )}
                      </td>
                      <td data-label="Why" class="text" safe>
                        {nodataWhy(v)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
