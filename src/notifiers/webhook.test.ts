import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { captureServer, localContext, sampleNotification, type CaptureServer } from "../../test/notifiers/harness.ts";
import { STRICT_POLICY, outboundFetch } from "../net/outbound.ts";
import { DeliveryError } from "./notifier.ts";
import { validateConfig } from "./registry.ts";
import { webhook } from "./webhook.ts";

let server: CaptureServer;
beforeAll(() => {
  server = captureServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.received.length = 0;
  server.respond = () => new Response("ok");
});

async function failure(work: Promise<unknown>): Promise<DeliveryError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

describe("webhook channel", () => {
  test("POSTs the notification as JSON with Vigil's headers, signed with the secret", async () => {
    const n = sampleNotification();
    const before = Math.floor(Date.now() / 1000);
    await webhook.send({ url: `${server.url}/hook`, secret: "s3cret-for-tests" }, n, localContext());
    const [req] = server.received;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe("/hook");
    expect(JSON.parse(req!.body)).toEqual(n);
    const h = req!.headers;
    expect(h.get("content-type")).toBe("application/json");
    expect(h.get("user-agent")).toBe("vigil");
    expect(h.get("x-vigil-event")).toBe("firing");
    expect(h.get("x-vigil-delivery")).toBe(n.id);
    const timestamp = Number(h.get("x-vigil-timestamp"));
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // What a receiver does: HMAC over "<timestamp>.<raw body>" with the shared secret.
    const expected = createHmac("sha256", "s3cret-for-tests").update(`${timestamp}.${req!.body}`).digest("hex");
    expect(h.get("x-vigil-signature")).toBe(`sha256=${expected}`);
  });

  test("no secret, no signature; extra headers are sent but cannot replace Vigil's", async () => {
    const n = sampleNotification({ event: "resolved" });
    await webhook.send(
      { url: `${server.url}/plain`, headers: { Authorization: "Bearer abc", "x-vigil-event": "forged", "content-type": "text/plain" } },
      n,
      localContext(),
    );
    const h = server.received[0]!.headers;
    expect(h.get("x-vigil-signature")).toBeNull();
    expect(h.get("authorization")).toBe("Bearer abc");
    expect(h.get("x-vigil-event")).toBe("resolved");
    expect(h.get("content-type")).toBe("application/json");
  });

  test("a 500 is a retryable failure with status and body", async () => {
    server.respond = () => new Response("database is down", { status: 500 });
    const err = await failure(webhook.send({ url: `${server.url}/hook` }, sampleNotification(), localContext()));
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(500);
    expect(err.body).toBe("database is down");
    expect(err.message).toBe(`webhook ${server.url}/…: HTTP 500 Internal Server Error: database is down`);
  });

  test("a 400 is final; 408 and 429 are retryable, with Retry-After kept", async () => {
    server.respond = () => new Response('{"error":"bad payload"}', { status: 400 });
    const bad = await failure(webhook.send({ url: `${server.url}/hook` }, sampleNotification(), localContext()));
    expect(bad.retryable).toBe(false);
    expect(bad.status).toBe(400);
    server.respond = () => new Response("slow down", { status: 429, headers: { "retry-after": "30" } });
    const busy = await failure(webhook.send({ url: `${server.url}/hook` }, sampleNotification(), localContext()));
    expect(busy.retryable).toBe(true);
    expect(busy.retryAfterSeconds).toBe(30);
    server.respond = () => new Response("", { status: 408 });
    expect((await failure(webhook.send({ url: `${server.url}/hook` }, sampleNotification(), localContext()))).retryable).toBe(true);
  });

  test("a refused address is a final failure and nothing is sent", async () => {
    const strict = { ...localContext(), fetch: (url: string, init: RequestInit) => outboundFetch(url, init, STRICT_POLICY) };
    const err = await failure(webhook.send({ url: `${server.url}/hook` }, sampleNotification(), strict));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("is a private (loopback) address; set VIGIL_OUTBOUND_ALLOW=127.0.0.0/8");
    expect(server.received).toHaveLength(0);
  });

  test("a closed port is a retryable failure", async () => {
    const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = gone.port;
    await gone.stop(true);
    const err = await failure(webhook.send({ url: `http://127.0.0.1:${port}/hook` }, sampleNotification(), localContext()));
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
  });

  test("config validation", () => {
    expect(validateConfig("webhook", { url: "https://ops.example.com/hook", secret: "x", headers: { "X-Token": "t" } })).toEqual([]);
    expect(validateConfig("webhook", {})).toEqual(["url is required"]);
    expect(validateConfig("webhook", { url: "ftp://x", secrets: "typo" })).toEqual([
      "secrets is not a setting of this channel",
      "url must match ^https?://",
    ]);
    expect(validateConfig("webhook", { url: "http://x", headers: { "Bad Name": "v", Ok: "a\r\nInjected: 1" } })).toHaveLength(2);
  });
});
