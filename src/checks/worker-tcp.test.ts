import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkContext, closedPort, localAgent, tcpServer } from "../../test/checks/harness.ts";
import { workerTcp } from "./worker-tcp.ts";

const WORKER = 4;
let server: { port: number; stop(): void };
beforeAll(() => {
  server = tcpServer();
});
afterAll(() => server.stop());

describe("worker-tcp check: the agent connects from the worker's side", () => {
  test("healthy: connected; host defaults to the worker's loopback", async () => {
    const agent = localAgent();
    const o = await workerTcp.run({ port: server.port }, checkContext({ workerId: WORKER, probe: agent.probe }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^connected in \d+ ms \(from the worker\)$/);
    expect(agent.asked[0]?.probe).toEqual({ kind: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 1_600 });
  });

  test("degraded: slower than the bound", async () => {
    const o = await workerTcp.run(
      { port: server.port },
      checkContext({ workerId: WORKER, probe: localAgent().probe, degradedLatencyMs: 0 }),
    );
    expect(o.status).toBe("degraded");
  });

  test("down: refused on the worker, or its agent away", async () => {
    const port = closedPort();
    const o = await workerTcp.run({ host: "127.0.0.1", port }, checkContext({ workerId: WORKER, probe: localAgent().probe }));
    expect(o).toMatchObject({ status: "down", message: `TCP 127.0.0.1:${port} on the worker: connection refused` });
    const away = await workerTcp.run({ port }, checkContext({ workerId: WORKER }));
    expect(away.message).toBe(`TCP 127.0.0.1:${port} on the worker: agent of worker 4 is not connected`);
  });
});
