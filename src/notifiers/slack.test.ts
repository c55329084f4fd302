import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { captureServer, hostileNotification, localContext, sampleNotification, type CaptureServer } from "../../test/notifiers/harness.ts";
import { DeliveryError } from "./notifier.ts";
import { escapeSlack, slack } from "./slack.ts";

let server: CaptureServer;
beforeAll(() => {
  server = captureServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.received.length = 0;
  server.respond = () => new Response("ok");
});

describe("slack channel", () => {
  test("posts text and blocks as JSON to the incoming webhook", async () => {
    const n = sampleNotification();
    await slack.send({ url: `${server.url}/services/T0/B0/XXXX` }, n, localContext());
    const [req] = server.received;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe("/services/T0/B0/XXXX");
    expect(req?.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(req!.body);
    expect(body.text).toBe(n.title);
    expect(body.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: n.title, emoji: false } });
    expect(body.blocks[1].text).toEqual({ type: "mrkdwn", text: n.text });
    expect(body.blocks[2].elements[0].text).toBe(`Vigil · firing · ${n.at} · <https://vigil.example.com/alerts#alert-42|View alert>`);
  });

  test("agent-supplied names cannot make links or mentions", async () => {
    await slack.send({ url: `${server.url}/hook` }, hostileNotification(), localContext());
    const body = JSON.parse(server.received[0]!.body);
    expect(body.text).toContain("&lt;img src=x onerror=alert(1)&gt; @everyone *gpu*_07 &amp; &lt;!channel&gt;");
    expect(body.blocks[1].text.text).not.toContain("<!channel>");
    expect(escapeSlack("a & b <c> d")).toBe("a &amp; b &lt;c&gt; d");
  });

  test("no link without an absolute alert URL", async () => {
    const n = sampleNotification();
    await slack.send({ url: `${server.url}/hook` }, { ...n, alert: { ...n.alert, url: "/alerts#alert-42" } }, localContext());
    expect(JSON.parse(server.received[0]!.body).blocks[2].elements[0].text).toBe(`Vigil · firing · ${n.at}`);
  });

  test("Slack's refusal is reported without the webhook's token", async () => {
    server.respond = () => new Response("no_service", { status: 404 });
    const err = await slack
      .send({ url: `${server.url}/services/T0/B0/SECRET` }, sampleNotification(), localContext())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).message).toBe(`Slack ${server.url}/…: HTTP 404 Not Found: no_service`);
    expect((err as DeliveryError).retryable).toBe(false);
  });
});
