// The Discord channel: a webhook message with one embed coloured by severity, mentions switched off.
import { Type } from "@sinclair/typebox";
import type { AlertNotification } from "../alerts/notification.ts";
import { absoluteAlertUrl, eventInWords, truncate } from "./format.ts";
import { postToService } from "./http.ts";
import type { Notifier } from "./notifier.ts";

export const discordSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description: "The channel's webhook URL (Server Settings → Integrations → Webhooks → Copy Webhook URL).",
      examples: ["https://discord.com/api/webhooks/123/abc"],
    }),
  },
  { additionalProperties: false },
);

export const DISCORD_COLOURS = { critical: 0xe5484d, warning: 0xf5a524, resolved: 0x30a46c, test: 0x3e63dd } as const;

export function discordColour(n: AlertNotification): number {
  if (n.event === "resolved") return DISCORD_COLOURS.resolved;
  if (n.event === "test") return DISCORD_COLOURS.test;
  return DISCORD_COLOURS[n.severity];
}

/**
 * Makes agent-supplied text show as typed: inline markdown characters get a backslash, and so do
 * `#`, `-`, `>` and "1." where they would start a heading, list or quote. `@everyone` / `@here` get a
 * zero-width space so they do not even look like a ping (allowed_mentions already stops the ping).
 * `<` is escaped since `<@id>` and `<#id>` are mentions. Links are left whole: a backslash inside
 * one would become part of the address.
 */
export function escapeDiscord(text: string): string {
  return text
    .split(/(https?:\/\/[^\s<>]+)/)
    .map((piece, i) => (i % 2 === 1 ? piece : piece.replace(/[\\*_~`|[\]<]/g, "\\$&")))
    .join("")
    .replace(/^(\s*)([-#>]|\d+\.)/gm, "$1\\$2")
    .replace(/@(everyone|here)/g, "@\u200b$1");
}

// Discord's embed limits: title 256 characters, description 4096.
const TITLE_MAX = 256;
const DESCRIPTION_MAX = 4_096;

export function discordMessage(n: AlertNotification): Record<string, unknown> {
  const url = absoluteAlertUrl(n);
  return {
    username: "Vigil",
    // No @everyone, @here, role or user pings from anything in the message, whatever it contains.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: truncate(escapeDiscord(n.title), TITLE_MAX),
        description: truncate(escapeDiscord(n.text), DESCRIPTION_MAX),
        color: discordColour(n),
        timestamp: n.at,
        footer: { text: `Vigil · ${eventInWords(n.event)}` },
        ...(url ? { url } : {}),
      },
    ],
  };
}

export const discord: Notifier<typeof discordSchema> = {
  kind: "discord",
  label: "Discord",
  schema: discordSchema,
  secrets: ["url"], // the URL holds the webhook's token
  async send(config, n, ctx) {
    await postToService(ctx, "Discord", config.url, {
      headers: { "Content-Type": "application/json", "User-Agent": "vigil" },
      body: JSON.stringify(discordMessage(n)),
    });
  },
};
