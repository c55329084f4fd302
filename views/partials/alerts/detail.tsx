// One alert in full (/alerts/:id): its facts, every event (told or held back, and why), and the delivery log per channel.
import Html from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import type { alertDetail } from "../../../src/alerts/store.ts";
import { AckForm, gpuText, SeverityMark } from "./open.tsx";
import { Cell, DataTable, TimeCell } from "../../components/data-table.tsx";
import { formatAt, span } from "../../components/format.ts";
import { formatValue, QUIET_WORDS } from "./model.ts";

export type AlertDetail = Awaited<ReturnType<typeof alertDetail>>;

/** Events channels are told of; the others (pending, no data, acknowledged, dropped) never go out. */
const TELLABLE = new Set(["firing", "escalated", "deescalated", "repeat", "escalation", "resolved"]);

export function toldOf(e: AlertDetail["events"][number]): string {
  if (e.notified) return "told";
  if (e.suppressed) return `not told: ${QUIET_WORDS[e.suppressed] ?? e.suppressed}`;
  return TELLABLE.has(e.kind) ? "not told" : "—";
}

function Fact(props: { name: string; value: string }): JSX.Element {
  return (
    <>
      <dt safe>{props.name}</dt>
      <dd safe>{props.value}</dd>
    </>
  );
}

export function AlertFacts(props: { d: AlertDetail; gpuName: string | null; now: number; admin: boolean }): JSX.Element {
  const a = props.d.alert;
  const { unit } = ruleLabel(a.rule);
  const open = a.state !== "resolved";
  return (
    <article class="alert-facts">
      <header>
        <SeverityMark severity={a.severity} /> <strong safe>{a.state === "nodata" ? "no data" : a.state}</strong>{" "}
        <a href={`/workers/${a.workerId}`} safe>
          {props.d.workerName}
        </a>
      </header>
      <dl>
        <Fact name="GPU" value={`${gpuText(a.gpuIndex, props.gpuName)}${a.gpuUuid ? ` (${a.gpuUuid})` : ""}`} />
        <Fact name="Rule" value={`${ruleLabel(a.rule).label} (${a.rule})`} />
        <Fact name="Value" value={formatValue(a.value, unit)} />
        <Fact name="Threshold" value={formatValue(a.threshold, unit)} />
        <Fact name="Started" value={formatAt(a.startedAt)} />
        <Fact name="Fired" value={a.firedAt ? formatAt(a.firedAt) : "not yet"} />
        <Fact
          name={open ? "Open for" : "Resolved"}
          value={open ? span(a.startedAt.getTime(), props.now) : a.resolvedAt ? formatAt(a.resolvedAt) : "—"}
        />
        <Fact
          name="Notified"
          value={
            a.notifiedSeverity
              ? `as ${a.notifiedSeverity}${a.notifiedAt ? ` at ${formatAt(a.notifiedAt)}` : ""}${a.tier > 1 ? `, tier ${a.tier}` : ""}`
              : "never"
          }
        />
        <Fact name="Acknowledged" value={a.ackedAt ? `by ${a.ackedBy ?? "someone"} at ${formatAt(a.ackedAt)}` : "no"} />
      </dl>
      {open && !a.ackedAt && props.admin ? (
        <footer>
          <AckForm id={a.id} back="detail" />
        </footer>
      ) : (
        ""
      )}
    </article>
  );
}

export function AlertEvents(props: { d: AlertDetail }): JSX.Element {
  const { unit } = ruleLabel(props.d.alert.rule);
  return (
    <section id="alert-events" aria-labelledby="alert-events-title">
      <h2 id="alert-events-title">Events</h2>
      {props.d.events.length === 0 ? (
        <p class="alerts-empty">No event recorded.</p>
      ) : (
        <DataTable class="alerts-table" columns={["At", "Transition", "Severity", "Value", "Channels", "By"]}>
          {props.d.events.map((e) => (
            <tr data-event={String(e.id)} class={`event event-${e.kind}`}>
              <TimeCell label="At" at={e.at} />
              <Cell label="Transition" text={e.kind} />
              <td data-label="Severity">
                <SeverityMark severity={e.severity} />
              </td>
              <Cell label="Value" class="num" text={formatValue(e.value, unit)} />
              <Cell label="Channels" class="text" text={toldOf(e)} />
              <Cell label="By" class="text" text={e.actor ?? "—"} />
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

export function AlertDeliveries(props: { d: AlertDetail }): JSX.Element {
  return (
    <section id="alert-deliveries" aria-labelledby="alert-deliveries-title">
      <h2 id="alert-deliveries-title">Deliveries</h2>
      {props.d.deliveries.length === 0 ? (
        <p class="alerts-empty">Nothing was sent for this alert: no channel took it, or it was never told.</p>
      ) : (
        <DataTable class="alerts-table" columns={["Channel", "Event", "Status", "Attempts", "Queued", "Delivered", "Last error"]}>
          {props.d.deliveries.map(({ d, channel }) => (
            <tr data-delivery={String(d.id)} class={`delivery delivery-${d.status}`}>
              <Cell label="Channel" class="text" text={channel} />
              <Cell label="Event" text={typeof d.payload.event === "string" ? d.payload.event : "—"} />
              <td data-label="Status">
                <mark
                  class={`delivery-status is-${d.status === "delivered" ? "delivered" : d.status === "failed" ? "failed" : "queued"}`}
                  safe
                >
                  {d.status}
                </mark>
              </td>
              <Cell label="Attempts" class="num" text={String(d.attempts)} />
              <TimeCell label="Queued" at={d.createdAt} />
              <TimeCell label="Delivered" at={d.deliveredAt} />
              <Cell label="Last error" class="text" text={d.lastError ?? "—"} />
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
