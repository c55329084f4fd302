// The generic webhook channel: POSTs the AlertNotification as JSON, signed with HMAC-SHA256 when a secret is set (docs/webhooks.md).
import { createHmac } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { AlertNotification } from "../alerts/notification.ts";
import { postToService } from "./http.ts";
import type { Notifier } from "./notifier.ts";

/** RFC 9110 token characters: what a header name may be made of. */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const webhookSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description: "Where to POST each notification (http:// or https://).",
      examples: ["https://ops.example.com/vigil"],
    }),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Shared secret: when set, each request carries X-Vigil-Signature: sha256=<HMAC-SHA256 of "<timestamp>.<body>">. Use 32 random characters or more.',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String({ pattern: "^[^\\r\\n]*$" }), {
        additionalProperties: false,
        description: "Extra request headers, e.g. an Authorization token the receiver wants. Vigil's own headers win over these.",
        examples: [{ Authorization: "Bearer 3f1c…" }],
      }),
    ),
  },
  { additionalProperties: false },
);

/** The signature a receiver recomputes: hex HMAC-SHA256 over "<timestamp>.<body>", so an old body cannot be replayed under a new timestamp. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** The request headers for one delivery (the body must be the exact bytes sent, since the signature covers them). */
export function webhookHeaders(n: AlertNotification, body: string, secret: string | undefined, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "vigil",
    "X-Vigil-Event": n.event,
    "X-Vigil-Delivery": n.id,
    "X-Vigil-Timestamp": String(timestamp),
  };
  if (secret) headers["X-Vigil-Signature"] = `sha256=${webhookSignature(secret, timestamp, body)}`;
  return headers;
}

export const webhook: Notifier<typeof webhookSchema> = {
  kind: "webhook",
  label: "Generic webhook",
  schema: webhookSchema,
  // Extra headers usually carry a token, so they are masked like the secret.
  secrets: ["secret", "headers"],
  async send(config, n, ctx) {
    const body = JSON.stringify(n);
    // Header names are case-insensitive: drop any configured header that would shadow one of ours.
    const ours = webhookHeaders(n, body, config.secret);
    const reserved = new Set(Object.keys(ours).map((h) => h.toLowerCase()));
    const extra = Object.entries(config.headers ?? {}).filter(([name]) => !reserved.has(name.toLowerCase()));
    await postToService(ctx, "webhook", config.url, { headers: { ...Object.fromEntries(extra), ...ours }, body });
  },
};
