import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkContext, closedPort, tcpServer } from "../../test/checks/harness.ts";
import { hostPort, tcp } from "./tcp.ts";

let server: { port: number; stop(): void };
beforeAll(() => {
  server = tcpServer();
});
afterAll(() => server.stop());

describe("tcp check: the three states against a real listener", () => {
  test("healthy: the port accepts, with the connect time and the address", async () => {
    const o = await tcp.run({ host: "127.0.0.1", port: server.port }, checkContext({ degradedLatencyMs: 1_000 }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^connected in \d+ ms$/);
    expect(o.latencyMs).toBeGreaterThan(0);
    expect(o.details).toEqual({ host: "127.0.0.1", port: server.port, address: "127.0.0.1" });
  });

  test("degraded: accepts, but slower than the bound (0 ms: any real connect is slower)", async () => {
    const o = await tcp.run({ host: "127.0.0.1", port: server.port }, checkContext({ degradedLatencyMs: 0 }));
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(/slower than 0 ms$/);
  });

  test("down: refused, with host and port in the message", async () => {
    const port = closedPort();
    const o = await tcp.run({ host: "127.0.0.1", port }, checkContext());
    expect(o).toEqual({
      status: "down",
      latencyMs: null,
      message: `TCP 127.0.0.1:${port}: connection refused`,
      details: { host: "127.0.0.1", port, error: "connection refused" },
    });
  });

  test("down: an address the outbound policy refuses is never connected to", async () => {
    const o = await tcp.run({ host: "169.254.169.254", port: 80 }, checkContext());
    expect(o.status).toBe("down");
    expect(o.message).toContain("TCP 169.254.169.254:80: 169.254.169.254 is a link-local (cloud metadata) address");
  });

  test("down: cancelled by the check's signal", async () => {
    const ac = new AbortController();
    ac.abort();
    const o = await tcp.run({ host: "127.0.0.1", port: server.port }, checkContext({ signal: ac.signal }));
    expect(o.message).toBe(`TCP 127.0.0.1:${server.port}: check cancelled`);
  });

  test("diagnose connects to each address the name has", async () => {
    const lines = await tcp.diagnose!({ host: "127.0.0.1", port: server.port }, checkContext());
    expect(lines[0]).toBe("127.0.0.1 resolves to 127.0.0.1 (allowed by the outbound policy)");
    expect(lines[1]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${server.port}: connected in [\\d.]+ ms$`));
  });

  test("hostPort brackets IPv6", () => {
    expect(hostPort("::1", 22)).toBe("[::1]:22");
    expect(hostPort("[::1]", 22)).toBe("[::1]:22");
    expect(hostPort("db.internal", 5432)).toBe("db.internal:5432");
  });
});
