// A local HTTP server standing in for a webhook receiver: keeps every notification Vigil posts, with when it arrived.
import type { AlertNotification } from "../../src/alerts/notification.ts";

export interface WebhookSink {
  /** Every notification received, oldest first. */
  received: { at: number; body: AlertNotification }[];
  /** http://127.0.0.1:PORT/PATH for a channel's config. */
  url(path?: string): string;
  stop(): void;
}

export function startWebhookSink(): WebhookSink {
  const received: WebhookSink["received"] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      received.push({ at: Date.now(), body: (await req.json()) as AlertNotification });
      return new Response("ok");
    },
  });
  return { received, url: (path = "/in") => `http://127.0.0.1:${server.port}${path}`, stop: () => server.stop(true) };
}
