// Every notification channel, by kind: validating, masking and sending a channel's config goes through here.
import { settingsProblems } from "../protocol/problems.ts";
import type { AlertNotification } from "../alerts/notification.ts";
import { dashboard } from "./dashboard.ts";
import { discord } from "./discord.ts";
import { email } from "./email.ts";
import { DeliveryError, type Notifier, type SendContext } from "./notifier.ts";
import { ntfy } from "./ntfy.ts";
import { slack } from "./slack.ts";
import { webhook } from "./webhook.ts";

/** The kinds stored in the database. A kind here without its module (or the reverse) stops the head at start-up. */
export const CHANNEL_KINDS = ["webhook", "slack", "discord", "ntfy", "email", "dashboard"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** What the API shows in place of a secret that is set. Sent back unchanged, it means "keep the stored value". */
export const SECRET_MASK = "********";

/**
 * Indexes `notifiers` by kind, throwing on a duplicate, a kind not in `kinds`, or a kind in `kinds`
 * with no notifier: a channel stored in the database must always find its code.
 */
export function buildRegistry(notifiers: readonly Notifier[], kinds: readonly string[]): ReadonlyMap<string, Notifier> {
  const byKind = new Map<string, Notifier>();
  for (const n of notifiers) {
    if (byKind.has(n.kind)) throw new Error(`notification channel kind "${n.kind}" is registered twice`);
    if (!kinds.includes(n.kind)) throw new Error(`notification channel kind "${n.kind}" is not one of ${kinds.join(", ")}`);
    byKind.set(n.kind, n);
  }
  const missing = kinds.filter((k) => !byKind.has(k));
  if (missing.length > 0) throw new Error(`no notifier registered for channel kind ${missing.map((k) => `"${k}"`).join(", ")}`);
  return byKind;
}

/** In the order the UI offers them. */
export const NOTIFIERS: readonly Notifier[] = [webhook, slack, discord, ntfy, email, dashboard];

// Runs at module load, so a broken registry fails the head's start (and every test), not the first alert.
const BY_KIND = buildRegistry(NOTIFIERS, CHANNEL_KINDS);

export function isChannelKind(kind: string): kind is ChannelKind {
  return BY_KIND.has(kind);
}

/** The notifier for a stored kind; throws for one Vigil does not know (a database from a newer version). */
export function notifierOf(kind: string): Notifier {
  const n = BY_KIND.get(kind);
  if (!n) throw new Error(`unknown notification channel kind "${kind}" (known: ${CHANNEL_KINDS.join(", ")})`);
  return n;
}

/** Readable problems with a channel's config, one per field (empty when it is valid). */
export function validateConfig(kind: string, config: unknown): string[] {
  const n = BY_KIND.get(kind);
  if (!n) return [`unknown notification channel kind "${kind}" (known: ${CHANNEL_KINDS.join(", ")})`];
  return settingsProblems(n.schema, config, "channel");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A copy of `config` fit to show: each secret that is set becomes SECRET_MASK (a record of secrets,
 * such as webhook headers, keeps its names and masks each value). Unset secrets stay unset, so the
 * form can tell "none" from "set".
 */
export function maskSecrets(kind: string, config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const field of notifierOf(kind).secrets) {
    const value = out[field];
    if (value === undefined || value === null || value === "") continue;
    out[field] = isRecord(value) ? Object.fromEntries(Object.keys(value).map((k) => [k, SECRET_MASK])) : SECRET_MASK;
  }
  return out;
}

/**
 * The config to store when a form comes back: a secret still equal to SECRET_MASK keeps its stored
 * value (the user did not touch it); anything else, including removal, is what the user meant.
 */
export function keepMaskedSecrets(
  kind: string,
  submitted: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...submitted };
  for (const field of notifierOf(kind).secrets) {
    const value = out[field];
    const before = stored[field];
    if (value === SECRET_MASK) out[field] = before;
    else if (isRecord(value) && isRecord(before)) {
      out[field] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === SECRET_MASK ? before[k] : v]));
    }
  }
  return out;
}

/** Validates a stored config and sends through its channel. An invalid config is a DeliveryError that retrying will not fix. */
export async function deliver(kind: string, config: unknown, n: AlertNotification, ctx: SendContext): Promise<void> {
  const problems = validateConfig(kind, config);
  if (problems.length > 0) throw new DeliveryError(`${kind} channel config is invalid: ${problems.join("; ")}`, { retryable: false });
  await notifierOf(kind).send(config as never, n, ctx);
}
