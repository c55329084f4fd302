// One alert in full (/alerts/:id): its facts, every event (told or held back, and why), and the delivery log per channel.
import Html from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import type { alertDetail } from "../../../src/alerts/store.ts";
import { AckForm, gpuText, SeverityMark } from "./open.tsx";
import { formatAt, formatValue, QUIET_WORDS, span } from "./model.ts";

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
        <div class="overflow-auto">
          <table class="alerts-table striped">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Transition</th>
                <th scope="col">Severity</th>
                <th scope="col">Value</th>
                <th scope="col">Channels</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {props.d.events.map((e) => (
                <tr data-event={String(e.id)} class={`event event-${e.kind}`}>
                  <td data-label="At">
                    <time datetime={e.at.toISOString()} safe>
                      {formatAt(e.at)}
                    </time>
                  </td>
                  <td data-label="Transition" safe>
                    {e.kind}
                  </td>
                  <td data-label="Severity">
                    <SeverityMark severity={e.severity} />
                  </td>
                  <td data-label="Value" class="num" safe>
                    {formatValue(e.value, unit)}
                  </td>
                  <td data-label="Channels" class="text" safe>
                    {toldOf(e)}
                  </td>
                  <td data-label="By" class="text" safe>
                    {e.actor ?? "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
        <div class="overflow-auto">
          <table class="alerts-table striped">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Queued</th>
                <th scope="col">Delivered</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {props.d.deliveries.map(({ d, channel }) => {
                const event: string = typeof d.payload.event === "string" ? d.payload.event : "—";
                const delivered: string = d.deliveredAt ? formatAt(d.deliveredAt) : "—";
                return (
                  <tr data-delivery={String(d.id)} class={`delivery delivery-${d.status}`}>
                    <td data-label="Channel" class="text" safe>
                      {channel}
                    </td>
                    <td data-label="Event" safe>
                      {event}
                    </td>
                    <td data-label="Status">
                      <mark
                        class={`delivery-status is-${d.status === "delivered" ? "delivered" : d.status === "failed" ? "failed" : "queued"}`}
                        safe
                      >
                        {d.status}
                      </mark>
                    </td>
                    <td data-label="Attempts" class="num" safe>
                      {String(d.attempts)}
                    </td>
                    <td data-label="Queued" safe>
                      {formatAt(d.createdAt)}
                    </td>
                    <td data-label="Delivered" safe>
                      {delivered}
                    </td>
                    <td data-label="Last error" class="text" safe>
                      {d.lastError ?? "—"}
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
