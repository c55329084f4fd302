import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkHost, outboundFetch, STRICT_POLICY } from "../net/outbound.ts";
import { checkContext, closedPort, httpServer, selfSignedCert, type LocalServer } from "../../test/checks/harness.ts";
import { daysLeft } from "./connect.ts";
import { http, jsonValueMatches, statusMatches, valueAt } from "./http.ts";
import { validateCheckConfig } from "./registry.ts";

let server: LocalServer;
beforeAll(() => {
  server = httpServer(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/health") return new Response("all systems ready");
    if (path === "/slow") return Bun.sleep(150).then(() => new Response("ok, eventually"));
    if (path === "/hang") return Bun.sleep(3_000).then(() => new Response("too late"));
    if (path === "/fail") return new Response("database gone", { status: 500 });
    if (path === "/missing") return new Response("no", { status: 404 });
    if (path === "/json") return Response.json({ status: { ready: true, queue: 3 }, models: [{ loaded: "yes" }] });
    if (path === "/moved") return Response.redirect("/health", 302);
    if (path === "/echo") return new Response(req.headers.get("x-probe") ?? "");
    return new Response("?", { status: 400 });
  });
});
afterAll(() => server.stop());

describe("http check: the three states against a real server", () => {
  test("healthy: 200 within the bound, with status, bytes and latency", async () => {
    const o = await http.run({ url: `${server.url}/health` }, checkContext({ degradedLatencyMs: 1_000 }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^HTTP 200 OK in \d+ ms$/);
    expect(o.latencyMs).toBeGreaterThan(0);
    expect(o.details).toMatchObject({ url: `${server.url}/health`, method: "GET", status: 200, bytes: 17 });
  });

  test("degraded: answers, but slower than degradedLatencyMs", async () => {
    const o = await http.run({ url: `${server.url}/slow` }, checkContext({ degradedLatencyMs: 50 }));
    expect(o.status).toBe("degraded");
    expect(o.latencyMs).toBeGreaterThanOrEqual(140);
    expect(o.message).toMatch(/^HTTP 200 OK in \d+ ms, slower than 50 ms$/);
  });

  test("down: a status outside expectStatus", async () => {
    const o = await http.run({ url: `${server.url}/fail` }, checkContext());
    expect(o.status).toBe("down");
    expect(o.message).toBe(`GET ${server.url}/fail: HTTP 500 Internal Server Error, expected 200-399`);
    expect(o.details.status).toBe(500);
  });

  test("down: connection refused, with the request in the message", async () => {
    const port = closedPort();
    const o = await http.run({ url: `http://127.0.0.1:${port}/health` }, checkContext());
    expect(o).toMatchObject({ status: "down", latencyMs: null, message: `GET http://127.0.0.1:${port}/health: connection refused` });
  });

  test("down: no answer within the check's timeout", async () => {
    const started = performance.now();
    const o = await http.run({ url: `${server.url}/hang` }, checkContext({ timeoutMs: 200 }));
    expect(o.status).toBe("down");
    expect(o.message).toMatch(new RegExp(`^GET ${server.url}/hang: (no answer within|timed out after) 200 ms$`));
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  test("down: an address the outbound policy refuses", async () => {
    const strict = checkContext({
      fetch: (url, init) => outboundFetch(url, init, STRICT_POLICY, { timeoutMs: 1000 }),
      checkHost: async (h) => void (await checkHost(h, STRICT_POLICY)),
    });
    const o = await http.run({ url: `${server.url}/health` }, strict);
    expect(o.status).toBe("down");
    expect(o.message).toContain("VIGIL_OUTBOUND_ALLOW");
  });

  test("down: cancelled when the check's signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const o = await http.run({ url: `${server.url}/hang` }, checkContext({ signal: ac.signal }));
    expect(o.status).toBe("down");
    expect(o.message).toBe(`GET ${server.url}/hang: check cancelled`);
  });

  test("expectStatus accepts other codes; redirects are followed and the final URL noted", async () => {
    expect((await http.run({ url: `${server.url}/missing`, expectStatus: "404" }, checkContext())).status).toBe("healthy");
    const moved = await http.run({ url: `${server.url}/moved` }, checkContext());
    expect(moved.status).toBe("healthy");
    expect(moved.details.finalUrl).toBe(`${server.url}/health`);
    expect((await http.run({ url: `${server.url}/moved`, expectStatus: "300-399" }, checkContext())).status).toBe("down");
  });

  test("keyword: present is healthy, absent is down", async () => {
    expect((await http.run({ url: `${server.url}/health`, keyword: "ready" }, checkContext())).status).toBe("healthy");
    const o = await http.run({ url: `${server.url}/health`, keyword: "on fire" }, checkContext());
    expect(o).toMatchObject({ status: "down", message: `GET ${server.url}/health: keyword "on fire" not in the body` });
  });

  test("jsonPath: present, equal, different, missing, not JSON", async () => {
    const run = (c: { jsonPath: string; jsonEquals?: string | number | boolean | null }, path = "/json") =>
      http.run({ url: `${server.url}${path}`, ...c }, checkContext());
    expect((await run({ jsonPath: "status.ready" })).status).toBe("healthy");
    expect((await run({ jsonPath: "status.ready", jsonEquals: true })).status).toBe("healthy");
    expect((await run({ jsonPath: "status.ready", jsonEquals: "true" })).status).toBe("healthy");
    expect((await run({ jsonPath: "models.0.loaded", jsonEquals: "yes" })).status).toBe("healthy");
    expect((await run({ jsonPath: "status.queue", jsonEquals: 0 })).message).toBe(`GET ${server.url}/json: status.queue is 3, expected 0`);
    expect((await run({ jsonPath: "status.live" })).message).toBe(`GET ${server.url}/json: status.live is not in the JSON body`);
    expect((await run({ jsonPath: "status" }, "/health")).message).toBe(
      `GET ${server.url}/health: the body is not JSON, so status cannot be read`,
    );
  });

  test("HEAD reads no body: with a keyword it says to use GET; headers are sent", async () => {
    expect((await http.run({ url: `${server.url}/health`, method: "HEAD" }, checkContext())).status).toBe("healthy");
    const o = await http.run({ url: `${server.url}/health`, method: "HEAD", keyword: "ready" }, checkContext());
    expect(o.status).toBe("down");
    expect(o.message).toContain("use GET");
    expect((await http.run({ url: `${server.url}/echo`, headers: { "X-Probe": "abc" }, keyword: "abc" }, checkContext())).status).toBe(
      "healthy",
    );
  });
});

describe("http check: TLS expiry through a self-signed certificate", () => {
  let tls: LocalServer;
  beforeAll(() => {
    tls = httpServer(() => new Response("secure ok"), selfSignedCert(5));
  });
  afterAll(() => tls.stop());

  test("degraded when the certificate expires within tlsWarnDays", async () => {
    const o = await http.run({ url: `${tls.url}/`, ignoreTlsErrors: true, tlsWarnDays: 14 }, checkContext());
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(/^HTTP 200 OK in \d+ ms; certificate expires in 4 days$/);
    expect(o.details.tls).toMatchObject({ daysLeft: 4, subject: "CN=vigil-test", issuer: "CN=vigil-test", verified: false });
  });

  test("healthy when it is further off than tlsWarnDays (or the look is off)", async () => {
    expect((await http.run({ url: `${tls.url}/`, ignoreTlsErrors: true, tlsWarnDays: 3 }, checkContext())).status).toBe("healthy");
    const off = await http.run({ url: `${tls.url}/`, ignoreTlsErrors: true, tlsWarnDays: 0 }, checkContext());
    expect(off.status).toBe("healthy");
    expect(off.details.tls).toBeUndefined();
  });

  test("down once expired (by the check's clock), and when the certificate does not verify", async () => {
    const later = Date.now() + 10 * 86_400_000;
    const o = await http.run({ url: `${tls.url}/`, ignoreTlsErrors: true }, checkContext({ now: () => later }));
    expect(o).toMatchObject({ status: "down", message: `GET ${tls.url}/: certificate expired 6 days ago` });
    const strict = await http.run({ url: `${tls.url}/` }, checkContext());
    expect(strict.status).toBe("down");
    expect(strict.message).toContain("self-signed certificate");
  });

  test("diagnose shows the addresses, the answer, its headers and the certificate", async () => {
    const lines = await http.diagnose!({ url: `${tls.url}/`, ignoreTlsErrors: true }, checkContext());
    expect(lines).toContain("127.0.0.1 resolves to 127.0.0.1 (allowed by the outbound policy)");
    expect(lines.some((l) => /^answer: HTTP 200 OK in \d+ ms, 9 bytes$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith("header content-type: text/plain"))).toBe(true);
    expect(lines).toContain("certificate subject: CN=vigil-test");
    expect(lines).toContain("certificate does not verify: DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(lines.at(-1)).toMatch(/^result: degraded: .*certificate expires in 4 days$/);
  });
});

describe("http check: pure parts and config", () => {
  test("statusMatches: codes and ranges", () => {
    expect(statusMatches("200-399", 200)).toBe(true);
    expect(statusMatches("200-399", 399)).toBe(true);
    expect(statusMatches("200-399", 404)).toBe(false);
    expect(statusMatches("200,204,301-302", 302)).toBe(true);
    expect(statusMatches("200,204,301-302", 303)).toBe(false);
  });

  test("valueAt and jsonValueMatches", () => {
    expect(valueAt({ a: { b: [{ c: 0 }] } }, "a.b.0.c")).toEqual({ found: true, value: 0 });
    expect(valueAt({ a: null }, "a.b")).toEqual({ found: false });
    expect(valueAt({ a: 1 }, "constructor")).toEqual({ found: false });
    expect(jsonValueMatches(true, "true")).toBe(true);
    expect(jsonValueMatches(1, "1")).toBe(true);
    expect(jsonValueMatches("1", 1)).toBe(false);
    expect(jsonValueMatches(null, null)).toBe(true);
  });

  test("daysLeft: whole days, negative once expired", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(daysLeft(now + 14 * 86_400_000 + 1, now)).toBe(14);
    expect(daysLeft(now + 86_400_000 - 1, now)).toBe(0);
    expect(daysLeft(now - 1, now)).toBe(-1);
  });

  test("config problems in the form's words", () => {
    expect(validateCheckConfig("http", { url: "https://x/health" })).toEqual([]);
    expect(validateCheckConfig("http", {})).toEqual(["url is required"]);
    expect(validateCheckConfig("http", { url: "ftp://x", method: "POST", expectStatus: "2xx", extra: 1 })).toEqual([
      "extra is not a setting of this check",
      "url must match ^https?://",
      'method must be one of "GET", "HEAD"',
      expect.stringMatching(/^expectStatus must match /),
    ]);
  });
});
