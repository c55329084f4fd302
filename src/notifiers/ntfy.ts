// The ntfy channel: a push notification POSTed to <server>/<topic>, with title, priority and tags in headers.
import { Type } from "@sinclair/typebox";
import type { AlertNotification } from "../alerts/notification.ts";
import { absoluteAlertUrl } from "./format.ts";
import { postToService } from "./http.ts";
import type { Notifier } from "./notifier.ts";

export const NTFY_DEFAULT_SERVER = "https://ntfy.sh";

export const ntfySchema = Type.Object(
  {
    server: Type.Optional(
      Type.String({
        pattern: "^https?://",
        description: `The ntfy server; default ${NTFY_DEFAULT_SERVER}.`,
        examples: ["https://ntfy.example.com"],
      }),
    ),
    topic: Type.String({
      pattern: "^[-_A-Za-z0-9]{1,64}$",
      description: "The topic to publish to. On a public server anyone who knows it can read it: pick something hard to guess.",
      examples: ["vigil-alerts-7f3c9a"],
    }),
    token: Type.Optional(Type.String({ minLength: 1, description: "An access token (tk_…) for a server or topic that needs one." })),
  },
  { additionalProperties: false },
);

/**
 * Header values must be ISO-8859-1, and fetch refuses anything else; ntfy decodes RFC 2047 encoded
 * words, so a title with "°C" or a non-Latin worker name is sent as =?UTF-8?B?…?=.
 */
export function encodeHeader(value: string): string {
  const oneLine = value.replace(/[\r\n]+/g, " ");
  return /^[\x20-\x7e]*$/.test(oneLine) ? oneLine : `=?UTF-8?B?${Buffer.from(oneLine, "utf8").toString("base64")}?=`;
}

/** ntfy priorities: 5 (max) buzzes through do-not-disturb on most phones, so only critical gets it. */
export function ntfyPriority(n: AlertNotification): number {
  if (n.event === "resolved" || n.event === "test") return 3;
  return n.severity === "critical" ? 5 : 4;
}

/** Tags that ntfy shows as emoji before the title (names from its emoji list). */
export function ntfyTags(n: AlertNotification): string {
  if (n.event === "resolved") return "white_check_mark";
  if (n.event === "test") return "test_tube";
  return n.severity === "critical" ? "rotating_light" : "warning";
}

export function ntfyHeaders(n: AlertNotification, token: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Type": "text/plain; charset=utf-8",
    "User-Agent": "vigil",
    Title: encodeHeader(n.title),
    Priority: String(ntfyPriority(n)),
    Tags: ntfyTags(n),
  };
  const url = absoluteAlertUrl(n);
  if (url) headers.Click = encodeHeader(url);
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

export const ntfy: Notifier<typeof ntfySchema> = {
  kind: "ntfy",
  label: "ntfy",
  schema: ntfySchema,
  secrets: ["token"],
  async send(config, n, ctx) {
    const server = (config.server ?? NTFY_DEFAULT_SERVER).replace(/\/+$/, "");
    // The body is shown as is (ntfy renders markdown only when asked to), so names need no escaping.
    await postToService(ctx, "ntfy", `${server}/${config.topic}`, { headers: ntfyHeaders(n, config.token), body: n.text });
  },
};
