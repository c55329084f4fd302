// The notification channels pages (admins): the list with add form, and one channel with its edit form and delivery log.
import Html from "@kitajs/html";
import type { ChannelRow } from "../../src/alerts/store.ts";
import { assetUrl } from "../../static/index.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";
import { kindLabel } from "../partials/alert-config/channel-model.ts";
import {
  ChannelForm,
  ChannelList,
  DeleteChannelButton,
  DeliveryLog,
  NEW_CHANNEL,
  TestButton,
  type ChannelFormValues,
  type DeliveryRow,
} from "../partials/alert-config/channels.tsx";
import { AlertsNav } from "../partials/alert-config/nav.tsx";

export function ChannelsPage(props: {
  viewer: Viewer;
  channels: ChannelRow[];
  /** Each channel's latest delivery, by channel id. */
  last: Map<number, DeliveryRow>;
  notice?: string;
  error?: string;
  /** The add form shown again after it was rejected. */
  values?: ChannelFormValues;
  now?: number;
}): JSX.Element {
  return (
    <Layout title="Notification channels" viewer={props.viewer} styles={[assetUrl("alerts.css")]}>
      <AlertsNav current="/alerts/channels" />
      <h1>Notification channels</h1>
      <Notice kind="error" text={props.error} />
      <Notice kind="ok" text={props.notice} />
      <p>
        Where alerts are told when they fire, escalate and resolve. Thresholds and built-in rules are on the{" "}
        <a href="/alerts/thresholds">thresholds page</a>.
      </p>
      <ChannelList channels={props.channels} last={props.last} now={props.now} />
      <article id="add-channel">
        <h2>Add a channel</h2>
        <ChannelForm values={props.values ?? NEW_CHANNEL} />
      </article>
    </Layout>
  );
}

export function ChannelPage(props: {
  viewer: Viewer;
  channel: ChannelRow;
  /** The edit form: the stored channel (secrets masked), or what was sent when it was rejected. */
  values: ChannelFormValues;
  deliveries: DeliveryRow[];
  notice?: string;
  error?: string;
  now?: number;
}): JSX.Element {
  const c = props.channel;
  return (
    <Layout title={`Channel ${c.name}`} viewer={props.viewer} styles={[assetUrl("alerts.css")]}>
      <AlertsNav current="/alerts/channels" />
      <p>
        <a href="/alerts/channels">← All channels</a>
      </p>
      <h1 safe>{c.name}</h1>
      <p safe>{`${kindLabel(c.kind)} · tier ${c.tier} · ${c.enabled ? "enabled" : "disabled"} · last changed by ${c.updatedBy ?? "?"}`}</p>
      <Notice kind="error" text={props.error} />
      <Notice kind="ok" text={props.notice} />
      <p class="channel-actions">
        <TestButton id={c.id} back="detail" /> <DeleteChannelButton id={c.id} />
      </p>
      <section id="deliveries">
        <h2>Delivery log</h2>
        <p>The last 50 notifications queued for this channel, newest first.</p>
        <DeliveryLog rows={props.deliveries} now={props.now} />
      </section>
      <article id="edit-channel">
        <h2>Edit</h2>
        <ChannelForm id={c.id} values={props.values} />
      </article>
    </Layout>
  );
}

export function ChannelNotFoundPage(props: { viewer: Viewer }): JSX.Element {
  return (
    <Layout title="Channel not found" viewer={props.viewer} styles={[assetUrl("alerts.css")]}>
      <AlertsNav current="/alerts/channels" />
      <h1>Channel not found</h1>
      <p>
        No such channel (deleted meanwhile?). See <a href="/alerts/channels">all channels</a>.
      </p>
    </Layout>
  );
}
