// The open alerts on the alerts page: firing, pending and no data, one live region each (src/live/regions/alerts.tsx).
import Html, { type PropsWithChildren } from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import type { Severity } from "../../../src/alerts/notification.ts";
import { Cell, DataTable } from "../../components/data-table.tsx";
import { formatAt, span } from "../../components/format.ts";
import { formatValue, QUIET_WORDS, type AlertsRegionProps, type OpenAlertView } from "./model.ts";

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

/** "GPU 3 · NVIDIA H100 80GB HBM3", or "host" for a worker-wide rule. */
export function gpuText(gpuIndex: number | null, gpuName: string | null): string {
  if (gpuIndex === null) return "host";
  return gpuName ? `GPU ${gpuIndex} · ${gpuName}` : `GPU ${gpuIndex}`;
}

/** An open alert's row: the anchor `alert-<id>`, and the cells every open alert's table starts with (severity, worker, GPU, rule). */
function OpenAlertRow(props: PropsWithChildren<{ v: OpenAlertView; class: string }>): JSX.Element {
  const a = props.v.alert;
  return (
    <tr id={`alert-${a.id}`} class={`alert-row ${props.class}`} data-alert={String(a.id)}>
      <td data-label="Severity">
        <SeverityMark severity={a.severity} />
      </td>
      <td data-label="Worker" class="text">
        <a href={`/workers/${a.workerId}`} safe>
          {props.v.workerName}
        </a>
      </td>
      <Cell label="GPU" class="text" text={gpuText(a.gpuIndex, props.v.gpuName)} />
      <td data-label="Rule" class="text">
        <a href={`/alerts/${a.id}`} title="Events and deliveries of this alert" safe>
          {ruleLabel(a.rule).label}
        </a>
      </td>
      {props.children}
    </tr>
  );
}

/** The reading and the level it crossed, in the rule's unit. */
function LevelCells(props: { alert: OpenAlertView["alert"] }): JSX.Element {
  const a = props.alert;
  const { unit } = ruleLabel(a.rule);
  return (
    <>
      <Cell label="Value" class="num" text={formatValue(a.value, unit)} />
      <Cell label="Threshold" class="num" text={formatValue(a.threshold, unit)} />
    </>
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

/** One section of open alerts (`id`, its heading `<id>-title`): the heading with how many, then the table, or `empty` when none. */
function OpenSection(props: PropsWithChildren<{ id: string; title: string; count: number; empty: string }>): JSX.Element {
  return (
    <section id={props.id} class="alerts-section" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`} safe>{`${props.title}${props.count === 0 ? "" : ` (${props.count})`}`}</h2>
      {props.count === 0 ? (
        <p class="alerts-empty" safe>
          {props.empty}
        </p>
      ) : (
        props.children
      )}
    </section>
  );
}

export function FiringAlerts(props: Pick<AlertsRegionProps, "firing" | "now" | "admin">): JSX.Element {
  return (
    <OpenSection id="alerts-firing" title="Firing" count={props.firing.length} empty="Nothing is firing.">
      <DataTable
        class="alerts-table"
        columns={["Severity", "Worker", "GPU", "Rule", "Value", "Threshold", "Firing for", "Notified", "Acknowledged"]}
      >
        {props.firing.map((v) => {
          const a = v.alert;
          return (
            <OpenAlertRow v={v} class={`severity-${a.severity}`}>
              <LevelCells alert={a} />
              <td data-label="Firing for">
                <Since at={a.firedAt ?? a.startedAt} now={props.now} />
              </td>
              <Cell
                label="Notified"
                class={`text told ${a.notifiedSeverity === null ? "told-not" : "told-yes"}`}
                text={toldText(v, props.now)}
              />
              <AckCell label="Acknowledged" v={v} now={props.now} admin={props.admin} />
            </OpenAlertRow>
          );
        })}
      </DataTable>
    </OpenSection>
  );
}

/** "in 1m 20s if it holds", or "at the next sample" once its `for` has passed. */
export function firesText(v: OpenAlertView, now: number): string {
  if (v.firesAt === null) return "its rule is gone: it closes with the next sample";
  return v.firesAt <= now ? "at the next sample if it still holds" : `in ${span(now, v.firesAt)} if it holds`;
}

export function PendingAlerts(props: Pick<AlertsRegionProps, "pending" | "now">): JSX.Element {
  return (
    <OpenSection
      id="alerts-pending"
      title="Pending"
      count={props.pending.length}
      empty="Nothing is pending: no rule is past its level and waiting out its duration."
    >
      <DataTable class="alerts-table" columns={["Severity", "Worker", "GPU", "Rule", "Value", "Threshold", "Past the level for", "Fires"]}>
        {props.pending.map((v) => {
          const a = v.alert;
          return (
            <OpenAlertRow v={v} class={`severity-${a.severity}`}>
              <LevelCells alert={a} />
              <td data-label="Past the level for">
                <Since at={a.startedAt} now={props.now} />
              </td>
              <Cell label="Fires" class="text" text={firesText(v, props.now)} />
            </OpenAlertRow>
          );
        })}
      </DataTable>
    </OpenSection>
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
    <OpenSection id="alerts-nodata" title="No data" count={props.nodata.length} empty="Every open alert has data.">
      <p class="alerts-help">
        These alerts stopped getting readings. They are not resolved: each goes back to what it was as soon as data returns.
      </p>
      <DataTable class="alerts-table" columns={["Severity", "Worker", "GPU", "Rule", "Was", "Last value", "No data", "Why"]}>
        {props.nodata.map((v) => {
          const a = v.alert;
          return (
            <OpenAlertRow v={v} class="nodata">
              <Cell label="Was" text={a.stateBeforeNodata ?? "pending"} />
              <Cell label="Last value" class="num" text={formatValue(a.value, ruleLabel(a.rule).unit)} />
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
              <Cell label="Why" class="text" text={nodataWhy(v)} />
            </OpenAlertRow>
          );
        })}
      </DataTable>
    </OpenSection>
  );
}
