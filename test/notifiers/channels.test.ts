// Every channel through the registry: the "send test" notification arrives, and no channel can be bounced to the metadata address.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { DeliveryError } from "../../src/notifiers/notifier.ts";
import { deliver, NOTIFIERS, validateConfig } from "../../src/notifiers/registry.ts";
import { testNotification } from "../../src/notifiers/test-notification.ts";
import { startSmtpSink, type SmtpSink } from "../fixtures/smtp-sink.ts";
import { captureServer, localContext, type CaptureServer } from "./harness.ts";

let server: CaptureServer;
let sink: SmtpSink;
beforeAll(async () => {
  server = captureServer();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await server.stop();
  await sink.stop();
});
beforeEach(() => {
  server.received.length = 0;
  server.respond = () => new Response("ok");
});

/** A config per HTTP channel pointing at `base`. */
function httpConfigs(base: string): Record<string, Record<string, unknown>> {
  return {
    webhook: { url: `${base}/hook` },
    slack: { url: `${base}/hook` },
    discord: { url: `${base}/hook` },
    ntfy: { server: base, topic: "hook" },
  };
}

describe("every channel", () => {
  test("delivers the test notification", async () => {
    const configs = { ...httpConfigs(server.url), dashboard: {} };
    const email = { host: "127.0.0.1", port: sink.port, security: "none", from: "vigil@example.com", to: ["oncall@example.com"] };
    const all: Record<string, Record<string, unknown>> = { ...configs, email };
    expect(Object.keys(all).sort()).toEqual(NOTIFIERS.map((n) => n.kind).sort());
    for (const [kind, config] of Object.entries(all)) {
      expect({ kind, problems: validateConfig(kind, config) }).toEqual({ kind, problems: [] });
      await deliver(kind, config, testNotification(`${kind} channel`), localContext());
    }
    expect(server.received.map((r) => r.path)).toEqual(["/hook", "/hook", "/hook", "/hook"]);
    // ntfy carries the title (with the worker) in a header, the others in the body.
    expect(server.received.every((r) => `${r.headers.get("title")} ${r.body}`.includes("vigil-test"))).toBe(true);
    expect(sink.mails).toHaveLength(1);
  });

  test("a redirect to the metadata address is a final failure for each HTTP channel", async () => {
    server.respond = () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
    for (const [kind, config] of Object.entries(httpConfigs(server.url))) {
      const err = await deliver(kind, config, testNotification(kind), localContext()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect({ kind, retryable: (err as DeliveryError).retryable }).toEqual({ kind, retryable: false });
      expect((err as DeliveryError).message).toContain("redirected to a refused address: 169.254.169.254 is a link-local");
    }
  });
});
