// The alert configuration pages (admins): the threshold editor, built-in rules and settings, notification channels with test send.
import { Elysia } from "elysia";
import { BUILTIN_DEFAULTS } from "../alerts/rules.ts";
import {
  channelDeliveries,
  deleteChannel,
  deleteThreshold,
  getChannel,
  listBuiltins,
  listChannels,
  listThresholds,
  loadSettings,
  publicChannel,
  saveBuiltin,
  saveChannel,
  saveSettings,
  saveThreshold,
  type ChannelRow,
} from "../alerts/store.ts";
import { actorOf, type Principal } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import { workerGpus } from "../fleet/gpus.ts";
import { listWorkers } from "../fleet/workers.ts";
import type { HeadContext } from "../head/context.ts";
import { testNotification } from "../notifiers/test-notification.ts";
import { ChannelNotFoundPage, ChannelPage, ChannelsPage } from "../../views/pages/alert-channels.tsx";
import { ThresholdsPage, type ThresholdsPageProps } from "../../views/pages/alert-thresholds.tsx";
import { settingsValuesOf, type BuiltinFormValues, type SettingsFormValues } from "../../views/partials/alert-config/builtins.tsx";
import { CHANNEL_FORMS, configFromForm, configToForm, typedSecrets } from "../../views/partials/alert-config/channel-model.ts";
import { channelFormValues, type ChannelFormValues, type DeliveryRow } from "../../views/partials/alert-config/channels.tsx";
import type { ThresholdFormValues, WorkerChoice } from "../../views/partials/alert-config/thresholds.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { field, htmlPage, redirect } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

const THRESHOLDS_DONE: Record<string, string> = {
  saved: "Rule saved; alerts are evaluated with it from now on.",
  deleted: "Rule deleted.",
  builtin: "Built-in rule saved.",
  settings: "Settings saved.",
};

const CHANNELS_DONE: Record<string, string> = {
  added: "Channel added. Send it a test to check that it works.",
  saved: "Channel saved.",
  deleted: "Channel deleted; its delivery log went with it.",
};

type Form = (name: string) => string;
const formOf =
  (body: unknown): Form =>
  (name) =>
    field(body, name);
const isId = (raw: string) => /^\d{1,9}$/.test(raw);

function thresholdValues(form: Form): ThresholdFormValues {
  return {
    metric: form("metric"),
    workerId: form("workerId"),
    gpu: form("gpu"),
    direction: form("direction"),
    warning: form("warning"),
    critical: form("critical"),
    forSeconds: form("forSeconds"),
    hysteresis: form("hysteresis"),
    enabled: form("enabled") === "on",
  };
}

/** The worker and GPU a new rule is for: the GPU picker's `<workerId>:<uuid>` names its worker too. */
function scopeOf(v: ThresholdFormValues): { workerId: string | null; gpuUuid: string | null } {
  if (v.gpu === "") return { workerId: v.workerId === "" ? null : v.workerId, gpuUuid: null };
  const colon = v.gpu.indexOf(":");
  const gpuWorker = v.gpu.slice(0, colon);
  if (colon < 1 || !isId(gpuWorker)) throw new InputError("gpu: not a GPU of this fleet");
  if (v.workerId !== "" && v.workerId !== gpuWorker) throw new InputError("gpu: the GPU picked is on another worker than the one picked");
  return { workerId: gpuWorker, gpuUuid: v.gpu.slice(colon + 1) };
}

/** A rejected channel form shown back: what was typed, except secrets, which come from the stored channel (masked) or stay empty. */
function channelValuesOf(form: Form, kind: string, stored?: ChannelRow): ChannelFormValues {
  const masked = stored ? configToForm(stored.kind, publicChannel(stored).config) : {};
  const config: Record<string, string> = {};
  for (const k of CHANNEL_FORMS)
    for (const f of k.fields) {
      const v = f.secret ? masked[f.name] : form(f.name);
      if (v !== undefined) config[f.name] = v;
    }
  return { name: form("name"), kind, enabled: form("enabled") === "on", minSeverity: form("minSeverity"), tier: form("tier"), config };
}

export function alertConfigPageRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  /** Every change to rules, settings or channels: the engine re-reads them, and open alert pages redraw. */
  async function changed(): Promise<void> {
    await ctx.alerts.reload();
    ctx.live.bus.publish({ topic: "alerts", workerIds: [] });
  }

  async function workerChoices(): Promise<WorkerChoice[]> {
    const list = await listWorkers(db);
    return Promise.all(
      list.map(async (w) => ({
        id: w.id,
        name: w.name,
        gpus: (await workerGpus(db, w.id)).map((g) => ({ uuid: g.uuid, index: g.index, name: g.name })),
      })),
    );
  }

  async function thresholdsPage(
    principal: Principal | null,
    extras: Pick<ThresholdsPageProps, "notice" | "error" | "draft"> & { settings?: SettingsFormValues } = {},
    status = 200,
  ): Promise<Response> {
    const [thresholds, builtins, settings, workers] = await Promise.all([
      listThresholds(db),
      listBuiltins(db),
      loadSettings(db),
      workerChoices(),
    ]);
    return htmlPage(
      <ThresholdsPage
        viewer={viewerOf(principal)}
        thresholds={thresholds}
        builtins={builtins}
        settings={extras.settings ?? settingsValuesOf(settings)}
        workers={workers}
        notice={extras.notice}
        error={extras.error}
        draft={extras.draft}
      />,
      status,
    );
  }

  async function lastDeliveries(channels: ChannelRow[]): Promise<Map<number, DeliveryRow>> {
    const rows = await Promise.all(channels.map(async (c) => [c.id, (await channelDeliveries(db, c.id, 1))[0]] as const));
    return new Map(rows.filter((r): r is readonly [number, DeliveryRow] => r[1] !== undefined));
  }

  async function channelsPage(
    principal: Principal | null,
    extras: { notice?: string; error?: string; values?: ChannelFormValues } = {},
    status = 200,
  ): Promise<Response> {
    const channels = await listChannels(db);
    return htmlPage(
      <ChannelsPage viewer={viewerOf(principal)} channels={channels} last={await lastDeliveries(channels)} {...extras} />,
      status,
    );
  }

  async function channelPage(
    principal: Principal | null,
    channel: ChannelRow,
    extras: { notice?: string; error?: string; values?: ChannelFormValues } = {},
    status = 200,
  ): Promise<Response> {
    return htmlPage(
      <ChannelPage
        viewer={viewerOf(principal)}
        channel={channel}
        values={extras.values ?? channelFormValues(channel, publicChannel(channel).config)}
        deliveries={await channelDeliveries(db, channel.id, 50)}
        notice={extras.notice}
        error={extras.error}
      />,
      status,
    );
  }

  /** The channel a path names, or undefined (not a number, or gone). */
  async function channelAt(raw: string): Promise<ChannelRow | undefined> {
    if (!isId(raw)) return undefined;
    try {
      return await getChannel(db, Number(raw));
    } catch (err) {
      if (err instanceof InputError) return undefined;
      throw err;
    }
  }

  const notFound = (principal: Principal | null) => htmlPage(<ChannelNotFoundPage viewer={viewerOf(principal)} />, 404);

  return (
    new Elysia({ name: "alert-config-pages", prefix: "/alerts" })
      .use(guard(ctx))
      // ---- thresholds, built-in rules, settings ----
      .get("/thresholds", ({ principal, query }) => thresholdsPage(principal, { notice: THRESHOLDS_DONE[String(query.done)] }), {
        access: "admin",
        detail: hidden(),
      })
      .post(
        "/thresholds",
        async ({ body, principal, client }) => {
          const form = formOf(body);
          const values = thresholdValues(form);
          const rawId = form("id");
          const editing = rawId !== "";
          try {
            const levels = {
              direction: values.direction,
              warning: values.warning,
              critical: values.critical,
              forSeconds: values.forSeconds,
              hysteresis: values.hysteresis,
              enabled: values.enabled,
            };
            let input: Record<string, unknown>;
            if (editing) {
              // An edit changes the levels of the rule it was opened on; its metric and scope come from the stored row.
              const row = isId(rawId) ? (await listThresholds(db)).find((r) => r.id === Number(rawId)) : undefined;
              if (!row) throw new InputError("no such rule (deleted meanwhile?)");
              input = { metric: row.metric, workerId: row.workerId, gpuUuid: row.gpuUuid, ...levels };
            } else {
              input = { metric: values.metric, ...scopeOf(values), ...levels };
            }
            const saved = await saveThreshold(db, actorOf(principal, client.ip), input);
            await changed();
            return redirect(`/alerts/thresholds?done=saved#rule-${saved.id}`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            const draft = { id: editing && isId(rawId) ? Number(rawId) : null, values };
            return thresholdsPage(principal, { error: `Rule not saved: ${err.message}.`, draft: { threshold: draft } }, 400);
          }
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/thresholds/:id/delete",
        async ({ params, principal, client }) => {
          try {
            if (!isId(params.id)) throw new InputError("no such rule");
            await deleteThreshold(db, actorOf(principal, client.ip), Number(params.id));
            await changed();
            return redirect("/alerts/thresholds?done=deleted");
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return thresholdsPage(principal, { error: `Rule not deleted: ${err.message} (deleted meanwhile?).` }, 404);
          }
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/builtins/:kind",
        async ({ params, body, principal, client }) => {
          const form = formOf(body);
          const known = BUILTIN_DEFAULTS.find((b) => b.kind === params.kind);
          const values: BuiltinFormValues = {
            enabled: form("enabled") === "on",
            severity: form("severity"),
            forSeconds: form("forSeconds"),
            params: Object.fromEntries(Object.keys(known?.params ?? {}).map((p) => [p, form(`param.${p}`)])),
          };
          try {
            if (!known) throw new InputError("no such built-in rule");
            // An empty parameter keeps its value rather than failing as "not a number".
            const paramsIn = Object.fromEntries(Object.entries(values.params).filter(([, v]) => v.trim() !== ""));
            await saveBuiltin(db, actorOf(principal, client.ip), known.kind, {
              enabled: values.enabled,
              severity: values.severity,
              forSeconds: values.forSeconds,
              params: paramsIn,
            });
            await changed();
            return redirect(`/alerts/thresholds?done=builtin#rule-${known.kind}`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return thresholdsPage(
              principal,
              { error: `Built-in rule not saved: ${err.message}.`, draft: known ? { builtin: { kind: known.kind, values } } : undefined },
              known ? 400 : 404,
            );
          }
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/settings",
        async ({ body, principal, client }) => {
          const form = formOf(body);
          const values: SettingsFormValues = {
            cooldownSeconds: form("cooldownSeconds"),
            repeatSeconds: form("repeatSeconds"),
            escalationMinutes: form("escalationMinutes"),
          };
          try {
            await saveSettings(db, actorOf(principal, client.ip), values);
            await changed();
            return redirect("/alerts/thresholds?done=settings#settings");
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            return thresholdsPage(principal, { error: `Settings not saved: ${err.message}.`, settings: values }, 400);
          }
        },
        { access: "admin", detail: hidden() },
      )
      // ---- channels ----
      .get("/channels", ({ principal, query }) => channelsPage(principal, { notice: CHANNELS_DONE[String(query.done)] }), {
        access: "admin",
        detail: hidden(),
      })
      .post(
        "/channels",
        async ({ body, principal, client }) => {
          const form = formOf(body);
          const kind = form("kind");
          try {
            await saveChannel(db, actorOf(principal, client.ip), {
              name: form("name"),
              kind,
              enabled: form("enabled") === "on",
              minSeverity: form("minSeverity"),
              tier: form("tier"),
              config: configFromForm(kind, form),
            });
            await changed();
            return redirect("/alerts/channels?done=added");
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            const retype = typedSecrets(kind, form) ? " Secrets are not shown back: type them again." : "";
            return channelsPage(
              principal,
              { error: `Channel not added: ${err.message}.${retype}`, values: channelValuesOf(form, kind) },
              400,
            );
          }
        },
        { access: "admin", detail: hidden() },
      )
      .get(
        "/channels/:id",
        async ({ params, principal, query }) => {
          const channel = await channelAt(params.id);
          if (!channel) return notFound(principal);
          return channelPage(principal, channel, { notice: CHANNELS_DONE[String(query.done)] });
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/channels/:id",
        async ({ params, body, principal, client }) => {
          const channel = await channelAt(params.id);
          if (!channel) return notFound(principal);
          const form = formOf(body);
          try {
            // The kind is the stored one: a channel's kind never changes, and only its fieldset is on the form.
            await saveChannel(
              db,
              actorOf(principal, client.ip),
              {
                name: form("name"),
                kind: channel.kind,
                enabled: form("enabled") === "on",
                minSeverity: form("minSeverity"),
                tier: form("tier"),
                config: configFromForm(channel.kind, form),
              },
              channel.id,
            );
            await changed();
            return redirect(`/alerts/channels/${channel.id}?done=saved`);
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            const retype = typedSecrets(channel.kind, form) ? " New secrets are not shown back: type them again." : "";
            return channelPage(
              principal,
              channel,
              { error: `Channel not saved: ${err.message}.${retype}`, values: channelValuesOf(form, channel.kind, channel) },
              400,
            );
          }
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/channels/:id/delete",
        async ({ params, principal, client }) => {
          const channel = await channelAt(params.id);
          if (!channel) return notFound(principal);
          try {
            await deleteChannel(db, actorOf(principal, client.ip), channel.id);
          } catch (err) {
            // Deleted by someone else between the two queries: the outcome they wanted is there.
            if (!(err instanceof InputError)) throw err;
          }
          await changed();
          return redirect("/alerts/channels?done=deleted");
        },
        { access: "admin", detail: hidden() },
      )
      .post(
        "/channels/:id/test",
        async ({ params, body, principal }) => {
          const channel = await channelAt(params.id);
          if (!channel) return notFound(principal);
          // Sent now and not queued: the admin waits for the answer, and a test is not an alert to retry or to log.
          const result = await ctx.deliveries.sendNow(
            channel.kind,
            channel.config,
            testNotification(channel.name, { publicUrl: ctx.config.publicUrl }),
          );
          const extras = result.ok
            ? { notice: `Test notification delivered to ${channel.name}.` }
            : { error: `Test notification to ${channel.name} failed: ${result.error ?? "unknown error"}` };
          const status = result.ok ? 200 : 502;
          return field(body, "back") === "list" ? channelsPage(principal, extras, status) : channelPage(principal, channel, extras, status);
        },
        { access: "admin", detail: hidden() },
      )
  );
}
