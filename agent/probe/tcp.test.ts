// Checks the TCP probe against a local listener: connected with latency, refused, and host names that are not hosts.
import { afterAll, describe, expect, test } from "bun:test";
import type { ProbeContext } from "./context.ts";
import { tcpProbe } from "./tcp.ts";

let accepted = 0;
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open() {
      accepted++;
    },
    data() {},
  },
});
afterAll(() => listener.stop(true));
const ctx: ProbeContext = { settings: { logUnits: [], paths: [] }, timeoutMs: 5000 };

describe("tcpProbe", () => {
  test("a listening port: connected, with the time it took", async () => {
    const r = await tcpProbe({ host: "127.0.0.1", port: listener.port, timeoutMs: 2000 }, ctx);
    expect(r).toMatchObject({ host: "127.0.0.1", port: listener.port });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.latencyMs).toBeLessThan(2000);
    for (let i = 0; i < 50 && accepted === 0; i++) await Bun.sleep(10);
    expect(accepted).toBeGreaterThan(0);
  });

  test("localhost by name", async () => {
    const r = await tcpProbe({ host: "localhost", port: listener.port, timeoutMs: 2000 }, ctx).catch((e: Error) => e);
    // Where localhost resolves to ::1 first and nothing listens there, refused is the honest answer.
    if (r instanceof Error) expect(r.message).toMatch(/connection refused/);
    else expect(r.port).toBe(listener.port);
  });

  test("a closed port: connection refused", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    await expect(tcpProbe({ host: "127.0.0.1", port, timeoutMs: 2000 }, ctx)).rejects.toThrow(`127.0.0.1:${port}: connection refused`);
  });

  test("a host that is not a host name or address is refused before connecting", async () => {
    for (const host of ["a b", "x;id", "http://127.0.0.1", ""])
      await expect(tcpProbe({ host, port: 80, timeoutMs: 1000 }, ctx)).rejects.toThrow(/is not a host name or address/);
  });
});
