// Checks the HTTP probe against a throwaway local server: status and latency, redirects not followed, bodies not read, timeouts, schemes.
import { afterAll, describe, expect, test } from "bun:test";
import type { ProbeContext } from "./context.ts";
import { httpProbe } from "./http.ts";

let hits = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    hits++;
    const path = new URL(req.url).pathname;
    if (path === "/system_stats") return Response.json({ ok: true });
    if (path === "/broken") return new Response("no", { status: 503, statusText: "Service Unavailable" });
    if (path === "/moved") return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
    if (path === "/slow") {
      await Bun.sleep(2000);
      return new Response("late");
    }
    if (path === "/endless")
      // A body that never ends: the probe must answer on the headers.
      return new Response(new ReadableStream({ pull: (c) => Bun.sleep(50).then(() => c.enqueue(new Uint8Array(1024))) }));
    return new Response("not found", { status: 404 });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;
const ctx: ProbeContext = { settings: { logUnits: [], paths: [] }, timeoutMs: 5000 };

describe("httpProbe", () => {
  test("a service on the worker's localhost: status and latency", async () => {
    const r = await httpProbe({ url: `${base}/system_stats`, timeoutMs: 2000 }, ctx);
    expect(r).toMatchObject({ url: `${base}/system_stats`, status: 200, statusText: "OK" });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.latencyMs).toBeLessThan(2000);
    expect(r.location).toBeUndefined();
  });

  test("an error status is an answer: the check judges it", async () => {
    expect(await httpProbe({ url: `${base}/broken`, timeoutMs: 2000 }, ctx)).toMatchObject({
      status: 503,
      statusText: "Service Unavailable",
    });
  });

  test("a redirect is reported with its target, never followed", async () => {
    const before = hits;
    const r = await httpProbe({ url: `${base}/moved`, timeoutMs: 2000 }, ctx);
    expect(r).toMatchObject({ status: 302, location: "http://169.254.169.254/latest/meta-data/" });
    expect(hits).toBe(before + 1);
  });

  test("the body is not read: an endless one still answers at once", async () => {
    const started = performance.now();
    expect((await httpProbe({ url: `${base}/endless`, timeoutMs: 2000 }, ctx)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("the shorter of the probe's and the command's timeouts applies", async () => {
    await expect(httpProbe({ url: `${base}/slow`, timeoutMs: 200 }, ctx)).rejects.toThrow(`${base}/slow did not answer within 0.2 s`);
    await expect(httpProbe({ url: `${base}/slow`, timeoutMs: 5000 }, { ...ctx, timeoutMs: 300 })).rejects.toThrow(
      "did not answer within 0.3 s",
    );
  });

  test("nothing listening: connection refused", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = closed.port;
    await closed.stop(true);
    await expect(httpProbe({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2000 }, ctx)).rejects.toThrow(
      `http://127.0.0.1:${port}/: connection refused`,
    );
  });

  test("only http and https", async () => {
    await expect(httpProbe({ url: "file:///etc/shadow", timeoutMs: 1000 }, ctx)).rejects.toThrow(
      "file URLs are not probed; use http or https",
    );
    await expect(httpProbe({ url: "ftp://127.0.0.1/", timeoutMs: 1000 }, ctx)).rejects.toThrow(/ftp URLs are not probed/);
    await expect(httpProbe({ url: "127.0.0.1:8188", timeoutMs: 1000 }, ctx)).rejects.toThrow(/URLs are not probed|is not a URL/);
    await expect(httpProbe({ url: "not a url", timeoutMs: 1000 }, ctx)).rejects.toThrow('"not a url" is not a URL');
  });
});
