import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkContext } from "../../test/checks/harness.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import type { HeadContext } from "../head/context.ts";
import type { Sample } from "../protocol/sample.ts";
import { vigil } from "./vigil.ts";

let head: TestHead;
beforeAll(async () => {
  // A fast ticker, so the check sees the hub tick without waiting a second.
  head = await startTestHead("postgres", { live: { tickMs: 20 } });
}, 60_000);
afterAll(() => head.close());

describe("vigil check on a real head", () => {
  test("healthy: hub ticking, writer idle, no alert errors; details say so", async () => {
    const o = await vigil.run({}, checkContext({ head: head.ctx, degradedLatencyMs: 1_000 }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^running for \d+ s; writer queue 0; live hub ticking; no alert errors$/);
    expect(o.latencyMs).toBeGreaterThanOrEqual(0);
    expect(o.details).toMatchObject({
      writer: { queued: 0, maxQueue: 2_000, failedFlushes: 0, droppedSamples: 0 },
      live: { ticking: true },
      alerts: { errors: 0, newErrors: 0 },
    });
  });

  test("degraded: the alert engine failed since the last check, then healthy again once it stops failing", async () => {
    await vigil.run({}, checkContext({ head: head.ctx }));
    // A sample the engine cannot evaluate: its failure is counted and logged, never thrown.
    await head.ctx.alerts.observe(head.agent.workerId, head.agent.name, {} as Sample);
    const o = await vigil.run({}, checkContext({ head: head.ctx }));
    expect(o.status).toBe("degraded");
    expect(o.message).toBe("alert engine failed once since the last check");
    expect(o.details.alerts).toMatchObject({ newErrors: 1 });
    expect((await vigil.run({}, checkContext({ head: head.ctx }))).status).toBe("healthy");
  });

  test("degraded: the event loop is held up beyond the bound", async () => {
    // A job that holds the loop for 40 ms, queued just before the check's own probe of it.
    setImmediate(() => {
      const until = performance.now() + 40;
      while (performance.now() < until);
    });
    const o = await vigil.run({}, checkContext({ head: head.ctx, degradedLatencyMs: 20 }));
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(/^event loop lags [\d.]+ ms \(more than 20 ms\)$/);
  });

  test("degraded: more samples wait to be written than maxWriterQueue", async () => {
    // The writer's counters as a database outage leaves them: rows queued, flushes failing.
    const backlog = { queued: 5, stats: { ...head.ctx.writer.stats } } as unknown as HeadContext["writer"];
    const stuck: HeadContext = { ...head.ctx, writer: backlog };
    const o = await vigil.run({ maxWriterQueue: 2 }, checkContext({ head: stuck }));
    expect(o.status).toBe("degraded");
    expect(o.message).toBe("5 samples wait to be written (more than 2)");
    (backlog.stats as { failedFlushes: number }).failedFlushes += 3;
    const again = await vigil.run({ maxWriterQueue: 10 }, checkContext({ head: stuck }));
    expect(again.message).toBe("writing samples failed 3 times since the last check");
  });

  test("down: the live hub stopped ticking (live pages frozen)", async () => {
    await vigil.run({}, checkContext({ head: head.ctx }));
    head.ctx.live.stop();
    const o = await vigil.run({}, checkContext({ head: head.ctx, timeoutMs: 300 }));
    expect(o.status).toBe("down");
    expect(o.message).toBe("live hub has not ticked since the last check: live pages are frozen");
    expect(o.details.live).toMatchObject({ ticking: false });
  });
});
