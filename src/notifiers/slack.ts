// The Slack channel: an incoming webhook message (text for the notification, blocks for the channel view).
import { Type } from "@sinclair/typebox";
import type { AlertNotification } from "../alerts/notification.ts";
import { absoluteAlertUrl, eventInWords, truncate } from "./format.ts";
import { postToService } from "./http.ts";
import type { Notifier } from "./notifier.ts";

export const slackSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description: "The incoming webhook URL Slack gave you (Apps → Incoming Webhooks). Slack-compatible services (Mattermost) work too.",
      examples: ["https://hooks.slack.com/services/T000/B000/XXXX"],
    }),
  },
  { additionalProperties: false },
);

/**
 * Slack's mrkdwn treats `<…>` as links and mentions (`<!channel>` pings everyone) and `&` as the
 * start of an entity; these three are all it asks to escape. Worker names come from agents.
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Slack's limits: a header block holds 150 characters, a section 3000; the top-level text is cut at 40 000.
const HEADER_MAX = 150;
const SECTION_MAX = 3_000;

export function slackMessage(n: AlertNotification): { text: string; blocks: unknown[] } {
  const url = absoluteAlertUrl(n);
  // A link's URL cannot hold `|` or `>` (they end it); our URLs do not, but an operator's VIGIL_PUBLIC_URL is not ours.
  const link = url ? ` · <${url.replace(/[|<>]/g, encodeURIComponent)}|View alert>` : "";
  return {
    text: escapeSlack(n.title),
    blocks: [
      // plain_text is never parsed as markup, so the title goes in unescaped.
      { type: "header", text: { type: "plain_text", text: truncate(n.title, HEADER_MAX), emoji: false } },
      { type: "section", text: { type: "mrkdwn", text: truncate(escapeSlack(n.text), SECTION_MAX) } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Vigil · ${eventInWords(n.event)} · ${n.at}${link}` }] },
    ],
  };
}

export const slack: Notifier<typeof slackSchema> = {
  kind: "slack",
  label: "Slack",
  schema: slackSchema,
  secrets: ["url"], // whoever has the URL can post to the channel
  async send(config, n, ctx) {
    await postToService(ctx, "Slack", config.url, {
      headers: { "Content-Type": "application/json", "User-Agent": "vigil" },
      body: JSON.stringify(slackMessage(n)),
    });
  },
};
