// The notification channels check: every enabled channel's server accepts a TCP connection (nothing is posted), so an alert has somewhere to go.
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, ne } from "drizzle-orm";
import { channels as channelsTable } from "../db/schema/index.ts";
import { NTFY_DEFAULT_SERVER } from "../notifiers/ntfy.ts";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { connectTcp } from "./connect.ts";
import { answered, down, errorText, failure, neverThrows, roundMs, withDeadline } from "./outcome.ts";
import { hostPort } from "./tcp.ts";

export const channelsSchema = Type.Object({}, { additionalProperties: false });
export type ChannelsConfig = Static<typeof channelsSchema>;

export type Target = { host: string; port: number } | { error: string };

function urlTarget(url: unknown, field: string): Target {
  if (typeof url !== "string") return { error: `the config has no ${field}` };
  try {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
  } catch {
    return { error: `${field} is not a valid URL` };
  }
}

/** Where a channel of `kind` connects, read from its stored config as each notifier's schema has it (src/notifiers/). */
export function reachTarget(kind: string, config: Record<string, unknown>): Target {
  switch (kind) {
    case "webhook":
    case "slack":
    case "discord":
      return urlTarget(config.url, "url");
    case "ntfy":
      return urlTarget(config.server ?? NTFY_DEFAULT_SERVER, "server");
    case "email": {
      if (typeof config.host !== "string" || !config.host) return { error: "the config has no host" };
      const port = typeof config.port === "number" ? config.port : config.security === "tls" ? 465 : 587;
      return { host: config.host, port };
    }
    default:
      return { error: `no reachability test for channel kind "${kind}"` };
  }
}

interface Reach {
  id: number;
  name: string;
  kind: string;
  /** host:port only: the URL's path may hold the channel's token. */
  target: string | null;
  reachable: boolean;
  latencyMs?: number;
  error?: string;
}

async function reach(ctx: CheckContext, c: { id: number; name: string; kind: string; config: Record<string, unknown> }): Promise<Reach> {
  const base = { id: c.id, name: c.name, kind: c.kind };
  const t = reachTarget(c.kind, c.config);
  if ("error" in t) return { ...base, target: null, reachable: false, error: t.error };
  const target = hostPort(t.host, t.port);
  try {
    const connected = await withDeadline(ctx, async (signal) => {
      await ctx.checkHost(t.host);
      return connectTcp(t.host, t.port, signal);
    });
    return { ...base, target, reachable: true, latencyMs: roundMs(connected.latencyMs) };
  } catch (err) {
    return { ...base, target, reachable: false, error: errorText(err) };
  }
}

async function runChannels(ctx: CheckContext): Promise<CheckOutcome> {
  let rows: { id: number; name: string; kind: string; config: Record<string, unknown> }[];
  try {
    rows = await withDeadline(ctx, () =>
      ctx.head.database.db
        .select({ id: channelsTable.id, name: channelsTable.name, kind: channelsTable.kind, config: channelsTable.config })
        .from(channelsTable)
        // The dashboard is inside the head: it is reachable whenever this check runs.
        .where(and(eq(channelsTable.enabled, true), ne(channelsTable.kind, "dashboard")))
        .orderBy(asc(channelsTable.name)),
    );
  } catch (err) {
    return failure("reading the channels", err);
  }
  // Nothing configured is nothing unreachable: the pre-flight checklist is where "no channel" is said,
  // so a fresh install does not start with a firing alert about it.
  if (rows.length === 0)
    return {
      status: "healthy",
      latencyMs: null,
      message: "no notification channel: alerts reach the dashboard only",
      details: { channels: [] },
    };

  const results = await Promise.all(rows.map((r) => reach(ctx, r)));
  const details = { channels: results };
  const failed = results.filter((r) => !r.reachable);
  const said = (r: Reach) => `${r.name} (${r.target ? `${r.target}: ` : ""}${r.error})`;
  if (failed.length === results.length) return down(`no channel reachable: ${failed.map(said).join("; ")}`, details);
  const slowest = Math.max(...results.map((r) => r.latencyMs ?? 0));
  if (failed.length > 0)
    return {
      status: "degraded",
      latencyMs: slowest,
      message: `${failed.length} of ${results.length} channels unreachable: ${failed.map(said).join("; ")}`,
      details,
    };
  return answered(slowest, ctx, `${results.length} channel${results.length === 1 ? "" : "s"} reachable`, details);
}

export const channels: Checker<typeof channelsSchema> = {
  kind: "channels",
  label: "Notification channels reachable",
  schema: channelsSchema,
  needsWorker: false,
  run: (_config, ctx) => neverThrows("notification channels", () => runChannels(ctx)),
};
