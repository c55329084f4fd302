import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkContext, closedPort, httpServer, localAgent, type LocalServer } from "../../test/checks/harness.ts";
import { workerHttp } from "./worker-http.ts";

const WORKER = 3;
let server: LocalServer;
beforeAll(() => {
  // Stands in for ComfyUI bound to the worker's loopback; the stand-in agent requests it from this machine.
  server = httpServer(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") await Bun.sleep(120);
    if (path === "/broken") return new Response("oops", { status: 503 });
    return Response.json({ system: { os: "posix" } });
  });
});
afterAll(() => server.stop());

describe("worker-http check: the agent requests the URL from the worker's side", () => {
  test("healthy: the agent got an expected status; the probe carries the URL and a timeout under the check's", async () => {
    const agent = localAgent();
    const o = await workerHttp.run({ url: `${server.url}/system_stats` }, checkContext({ workerId: WORKER, probe: agent.probe }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^HTTP 200 in \d+ ms \(from the worker\)$/);
    expect(o.details).toMatchObject({ url: `${server.url}/system_stats`, workerId: WORKER, status: 200 });
    expect(agent.asked[0]).toEqual({
      workerId: WORKER,
      probe: { kind: "http", url: `${server.url}/system_stats`, timeoutMs: 1_600 },
      timeoutMs: 2_000,
    });
  });

  test("degraded: slower than the bound, as the agent measured it", async () => {
    const o = await workerHttp.run(
      { url: `${server.url}/slow` },
      checkContext({ workerId: WORKER, probe: localAgent().probe, degradedLatencyMs: 50 }),
    );
    expect(o.status).toBe("degraded");
    expect(o.latencyMs).toBeGreaterThanOrEqual(110);
  });

  test("down: wrong status, refused, or no agent", async () => {
    const ctx = checkContext({ workerId: WORKER, probe: localAgent().probe });
    const broken = await workerHttp.run({ url: `${server.url}/broken` }, ctx);
    expect(broken).toMatchObject({ status: "down", message: `GET ${server.url}/broken on the worker: HTTP 503, expected 200-399` });
    const port = closedPort();
    const refused = await workerHttp.run({ url: `http://127.0.0.1:${port}/` }, ctx);
    expect(refused).toMatchObject({ status: "down", message: `GET http://127.0.0.1:${port}/ on the worker: connection refused` });
    const away = await workerHttp.run({ url: `${server.url}/` }, checkContext({ workerId: WORKER }));
    expect(away.message).toBe(`GET ${server.url}/ on the worker: agent of worker 3 is not connected`);
    expect((await workerHttp.run({ url: `${server.url}/broken`, expectStatus: "503" }, ctx)).status).toBe("healthy");
  });
});
