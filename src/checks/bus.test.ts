import { describe, expect, test } from "bun:test";
import { checkContext } from "../../test/checks/harness.ts";
import type { HeadContext } from "../head/context.ts";
import { LocalBus, type LiveBus, type LiveEvent } from "../live/bus.ts";
import { LiveHub } from "../live/hub.ts";
import { bus } from "./bus.ts";

// The bus is the only part of the head this check touches: the hub's own, without a database behind it.
const headWith = (b: LiveBus) => ({ live: new LiveHub({ bus: b, autoTick: false }) }) as unknown as HeadContext;

describe("bus check: publish, then hear it back", () => {
  test("healthy: the event comes back at once; the listener is removed afterwards", async () => {
    const local = new LocalBus();
    const seen: LiveEvent[] = [];
    local.subscribe((e) => seen.push(e));
    const o = await bus.run({}, checkContext({ head: headWith(local), degradedLatencyMs: 100 }));
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(/^event came back in [\d.]+ ms$/);
    expect(o.details).toMatchObject({ topic: "ping", bus: { published: 1, listenerErrors: 0 } });
    // Other listeners got a harmless "no worker changed".
    expect(seen).toEqual([{ topic: "ping", id: expect.any(String) }]);
    const again = await bus.run({}, checkContext({ head: headWith(local) }));
    expect(again.status).toBe("healthy");
  });

  test("degraded: a slow listener ahead of ours holds delivery up beyond the bound", async () => {
    const local = new LocalBus();
    local.subscribe(() => {
      const until = performance.now() + 30;
      while (performance.now() < until);
    });
    const o = await bus.run({}, checkContext({ head: headWith(local), degradedLatencyMs: 10 }));
    expect(o.status).toBe("degraded");
    expect(o.latencyMs).toBeGreaterThanOrEqual(30);
  });

  test("down: the event never comes back within the timeout", async () => {
    const deaf: LiveBus = { publish() {}, subscribe: () => () => {} };
    const o = await bus.run({}, checkContext({ head: headWith(deaf), timeoutMs: 100 }));
    expect(o).toEqual({
      status: "down",
      latencyMs: null,
      message: "live bus round trip: no answer within 100 ms",
      details: { topic: "ping", error: "no answer within 100 ms" },
    });
  });

  test("down: a bus whose publish throws", async () => {
    const broken: LiveBus = {
      publish() {
        throw new Error("NOTIFY failed: connection terminated");
      },
      subscribe: () => () => {},
    };
    const o = await bus.run({}, checkContext({ head: headWith(broken) }));
    expect(o.message).toBe("live bus round trip: NOTIFY failed: connection terminated");
  });
});
