// Notification channels: the list with each one's last delivery, the add and edit form built from the kind's schema, the delivery log.
import Html from "@kitajs/html";
import type { ChannelRow } from "../../../src/alerts/store.ts";
import type { deliveries } from "../../../src/db/schema/index.ts";
import { formatAgo } from "../../components/format.ts";
import { KindField, KindSettings } from "../../components/schema-form.tsx";
import { CHANNEL_FORMS, configToForm, kindLabel, SECRET_MASK } from "./channel-model.ts";

export type DeliveryRow = typeof deliveries.$inferSelect;

/** A channel form as typed; `config` is keyed by form field name (`webhook.url`). */
export interface ChannelFormValues {
  name: string;
  kind: string;
  enabled: boolean;
  minSeverity: string;
  tier: string;
  config: Record<string, string>;
}

export const NEW_CHANNEL: ChannelFormValues = { name: "", kind: "webhook", enabled: true, minSeverity: "warning", tier: "1", config: {} };

const when = (d: Date | null, now: number): string =>
  d ? `${d.toISOString().slice(0, 19).replace("T", " ")} UTC (${formatAgo(d.toISOString(), now)})` : "";

/** A delivery's outcome in a word or two, marked like the alert pages mark it (static/alerts.css). */
function outcome(d: DeliveryRow): { text: string; cls: string } {
  if (d.status === "delivered") return { text: "delivered", cls: "delivery-status is-delivered" };
  if (d.status === "failed") return { text: `failed after ${d.attempts} attempts`, cls: "delivery-status is-failed" };
  return { text: d.attempts > 0 ? `retrying (${d.attempts} attempts so far)` : "queued", cls: "delivery-status is-queued" };
}

export function TestButton(props: { id: number; back: "list" | "detail" }): JSX.Element {
  return (
    <form method="post" action={`/alerts/channels/${props.id}/test`} class="inline">
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class="outline">
        Send test
      </button>
    </form>
  );
}

export function DeleteChannelButton(props: { id: number }): JSX.Element {
  return (
    <form method="post" action={`/alerts/channels/${props.id}/delete`} class="inline">
      <button type="submit" class="outline contrast">
        Delete
      </button>
    </form>
  );
}

export function ChannelList(props: { channels: ChannelRow[]; last: Map<number, DeliveryRow>; now?: number }): JSX.Element {
  const now = props.now ?? Date.now();
  if (props.channels.length === 0) return <p>No channels yet: alerts show on the dashboard only. Add one below.</p>;
  return (
    <figure>
      <table class="list striped channels">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Tier</th>
            <th scope="col">Gets</th>
            <th scope="col">Enabled</th>
            <th scope="col">Last delivery</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {props.channels.map((c) => {
            const d = props.last.get(c.id);
            const o = d ? outcome(d) : undefined;
            return (
              <tr id={`channel-${c.id}`} class={c.enabled ? undefined : "channel-disabled"}>
                <td class="text">
                  <a href={`/alerts/channels/${c.id}`} safe>
                    {c.name}
                  </a>
                </td>
                <td safe>{kindLabel(c.kind)}</td>
                <td>{c.tier}</td>
                <td>{c.minSeverity === "critical" ? "critical only" : "warning and critical"}</td>
                <td>{c.enabled ? "yes" : "no"}</td>
                <td class="text">
                  {d && o ? (
                    <>
                      <mark class={o.cls} safe>
                        {o.text}
                      </mark>
                      <br />
                      <small safe>{when(d.deliveredAt ?? d.createdAt, now)}</small>
                      {d.lastError ? (
                        <>
                          <br />
                          <small class="delivery-error" safe>
                            {d.lastError}
                          </small>
                        </>
                      ) : (
                        ""
                      )}
                    </>
                  ) : (
                    <small>none yet</small>
                  )}
                </td>
                <td class="actions">
                  <TestButton id={c.id} back="list" />
                  <a href={`/alerts/channels/${c.id}`} role="button" class="outline secondary">
                    Edit
                  </a>
                  <DeleteChannelButton id={c.id} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

/**
 * Adds a channel (`id` absent: every kind's fieldset, the picked kind's is used; a stylesheet rule
 * shows only that one where the browser has `:has()`), or edits one (its kind's fieldset only).
 */
export function ChannelForm(props: { id?: number; values: ChannelFormValues }): JSX.Element {
  const v = props.values;
  const editing = props.id !== undefined;
  return (
    <form
      method="post"
      action={editing ? `/alerts/channels/${props.id}` : "/alerts/channels"}
      class={editing ? "channel-form" : "channel-form channel-add"}
    >
      <div class="grid">
        <label>
          Name
          <input name="name" value={v.name} required maxlength="63" placeholder="ops-webhook" />
        </label>
        <KindField forms={CHANNEL_FORMS} value={v.kind} editing={editing} noun="channel" />
        <label>
          Tier
          <input name="tier" type="number" min="1" max="5" step="1" value={v.tier} />
        </label>
        <label>
          Gets
          <select name="minSeverity">
            <option value="warning" selected={v.minSeverity !== "critical"}>
              warning and critical
            </option>
            <option value="critical" selected={v.minSeverity === "critical"}>
              critical only
            </option>
          </select>
        </label>
      </div>
      <label>
        <input name="enabled" type="checkbox" role="switch" checked={v.enabled} />
        Enabled
      </label>
      <p>
        <small>
          Tier 1 gets every alert; tier 2 and up get an alert only once it has gone unacknowledged through the escalation time of each tier
          before. A channel that gets critical only is also told when those alerts resolve.
        </small>
      </p>
      <KindSettings
        forms={CHANNEL_FORMS}
        kind={v.kind}
        editing={editing}
        values={v.config}
        empty={(k) => <p safe>{k.description || "No settings."}</p>}
        secretMask={SECRET_MASK}
      />
      <button type="submit">{editing ? "Save channel" : "Add channel"}</button>
    </form>
  );
}

/** The edit form's values for a stored channel: its config with the secrets masked. */
export function channelFormValues(c: ChannelRow, maskedConfig: Record<string, unknown>): ChannelFormValues {
  return {
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    minSeverity: c.minSeverity,
    tier: String(c.tier),
    config: configToForm(c.kind, maskedConfig),
  };
}

/** The channel's latest deliveries, newest first. */
export function DeliveryLog(props: { rows: DeliveryRow[]; now?: number }): JSX.Element {
  const now = props.now ?? Date.now();
  if (props.rows.length === 0) return <p>Nothing sent through this channel yet (test notifications are not logged).</p>;
  return (
    <figure>
      <table class="list striped deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((d) => {
            const o = outcome(d);
            const p = d.payload as { event?: unknown; title?: unknown };
            return (
              <tr>
                <td safe>{when(d.createdAt, now)}</td>
                <td class="text">
                  <code safe>{String(p.event ?? "?")}</code>{" "}
                  {d.alertId !== null ? (
                    <a href={`/alerts/${d.alertId}`} safe>
                      {String(p.title ?? `alert ${d.alertId}`)}
                    </a>
                  ) : (
                    <span safe>{String(p.title ?? "")}</span>
                  )}
                </td>
                <td>
                  <mark class={o.cls} safe>
                    {o.text}
                  </mark>
                  {d.deliveredAt ? (
                    <>
                      <br />
                      <small safe>{when(d.deliveredAt, now)}</small>
                    </>
                  ) : (
                    ""
                  )}
                </td>
                <td>{d.attempts}</td>
                <td class="text delivery-error" safe>
                  {d.lastError ?? ""}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
