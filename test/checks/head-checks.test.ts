// Every head-side kind through the registry's runCheck, against one real head: what the scheduler will do with a default config.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HEALTH_STATUSES, type HealthStatus } from "../../src/checks/checker.ts";
import { CHECKERS, diagnoseCheck, runCheck } from "../../src/checks/registry.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { makeSample } from "../fixtures/samples.ts";
import { checkContext } from "./harness.ts";

let head: TestHead;
beforeAll(async () => {
  head = await startTestHead("postgres", { live: { tickMs: 20 } });
  await head.ctx.ingestor.ingest({ id: head.agent.workerId, name: head.agent.name }, makeSample(1));
}, 60_000);
afterAll(() => head.close());

describe("head-side checks on a real head", () => {
  test("the live bus the hub listens on carries the probe back at once", async () => {
    const o = await runCheck("bus", {}, checkContext({ head: head.ctx, degradedLatencyMs: 100 }));
    expect(o).toMatchObject({ status: "healthy", details: { topic: "ping" } });
  });

  test("each kind with its defaults gives an outcome of the contract's shape, and a diagnosis", async () => {
    const configs: Record<string, unknown> = { http: { url: "http://127.0.0.1:1/" }, tcp: { host: "127.0.0.1", port: 1 } };
    const want: Record<string, HealthStatus> = {
      vigil: "healthy",
      database: "healthy",
      bus: "healthy",
      channels: "healthy", // none configured: nothing unreachable
      agent: "healthy",
      http: "down",
      tcp: "down",
      filesystem: "healthy",
    };
    for (const c of CHECKERS.filter((c) => !c.needsWorker || c.kind === "agent")) {
      const config = configs[c.kind] ?? (c.kind === "filesystem" ? { path: "/tmp", warnFreePercent: 0, minFreePercent: 0 } : {});
      const ctx = checkContext({ head: head.ctx, workerId: c.kind === "agent" ? head.agent.workerId : null });
      const o = await runCheck(c.kind, config, ctx);
      expect({ kind: c.kind, status: o.status }).toEqual({ kind: c.kind, status: want[c.kind]! });
      expect(HEALTH_STATUSES).toContain(o.status);
      expect(o.message.length).toBeGreaterThan(0);
      expect(typeof o.details).toBe("object");
      expect(o.latencyMs === null || o.latencyMs >= 0).toBe(true);
      const lines = await diagnoseCheck(c.kind, config, ctx);
      expect(lines.length).toBeGreaterThan(0);
    }
  });
});
