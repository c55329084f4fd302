import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { captureServer, hostileNotification, localContext, sampleNotification, type CaptureServer } from "../../test/notifiers/harness.ts";
import { DeliveryError } from "./notifier.ts";
import { encodeHeader, ntfy } from "./ntfy.ts";
import { validateConfig } from "./registry.ts";

let server: CaptureServer;
beforeAll(() => {
  server = captureServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.received.length = 0;
  server.respond = () => Response.json({ id: "abc", event: "message" });
});

/** What ntfy does with an RFC 2047 header: decode it back to UTF-8. */
function decoded(header: string | null): string | null {
  const m = /^=\?UTF-8\?B\?(.*)\?=$/.exec(header ?? "");
  return m ? Buffer.from(m[1]!, "base64").toString("utf8") : header;
}

describe("ntfy channel", () => {
  test("POSTs the text to <server>/<topic> with title, priority, tags, click and token", async () => {
    const n = sampleNotification();
    await ntfy.send({ server: `${server.url}/`, topic: "vigil-alerts", token: "tk_secret" }, n, localContext());
    const [req] = server.received;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe("/vigil-alerts");
    expect(req?.body).toBe(n.text);
    const h = req!.headers;
    expect(decoded(h.get("title"))).toBe(n.title);
    expect(h.get("priority")).toBe("5");
    expect(h.get("tags")).toBe("rotating_light");
    expect(h.get("click")).toBe("https://vigil.example.com/alerts#alert-42");
    expect(h.get("authorization")).toBe("Bearer tk_secret");
    expect(h.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  test("priority 4 for warning, 3 for resolved; no token, no Authorization", async () => {
    const ctx = localContext();
    await ntfy.send({ server: server.url, topic: "t" }, sampleNotification({ severity: "warning" }), ctx);
    await ntfy.send({ server: server.url, topic: "t" }, sampleNotification({ event: "resolved" }), ctx);
    expect(server.received.map((r) => [r.headers.get("priority"), r.headers.get("tags")])).toEqual([
      ["4", "warning"],
      ["3", "white_check_mark"],
    ]);
    expect(server.received[0]!.headers.get("authorization")).toBeNull();
  });

  test("header values are one line of ASCII, or RFC 2047 encoded", async () => {
    expect(encodeHeader("plain title")).toBe("plain title");
    expect(encodeHeader("a\r\nInjected: yes")).toBe("a Injected: yes");
    expect(decoded(encodeHeader("GPU 88 °C"))).toBe("GPU 88 °C");
    await ntfy.send({ server: server.url, topic: "t" }, hostileNotification(), localContext());
    expect(decoded(server.received[0]!.headers.get("title"))).toContain("<img src=x onerror=alert(1)>");
  });

  test("an access refusal is final", async () => {
    server.respond = () => Response.json({ code: 40101, http: 401, error: "unauthorized" }, { status: 401 });
    const err = await ntfy
      .send({ server: server.url, topic: "t", token: "tk_bad" }, sampleNotification(), localContext())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).retryable).toBe(false);
    expect((err as DeliveryError).message).toBe(
      `ntfy ${server.url}/…: HTTP 401 Unauthorized: {"code":40101,"http":401,"error":"unauthorized"}`,
    );
  });

  test("config validation", () => {
    expect(validateConfig("ntfy", { topic: "vigil-alerts" })).toEqual([]);
    expect(validateConfig("ntfy", { topic: "has/slash" })).toEqual(["topic must match ^[-_A-Za-z0-9]{1,64}$"]);
  });
});
