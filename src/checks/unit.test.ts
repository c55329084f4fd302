import { describe, expect, test } from "bun:test";
import { checkContext, localAgent } from "../../test/checks/harness.ts";
import type { WorkerProbeAnswer } from "./checker.ts";
import { unit, unitHealth } from "./unit.ts";

const WORKER = 7;

describe("unit check through the worker's agent", () => {
  test("healthy: active, and the probe asked is the unit on the service's worker", async () => {
    const agent = localAgent({ "comfyui.service": "active" });
    const o = await unit.run({ unit: "comfyui.service" }, checkContext({ workerId: WORKER, probe: agent.probe }));
    expect(o).toMatchObject({
      status: "healthy",
      message: "unit comfyui.service: active (running)",
      details: { unit: "comfyui.service", workerId: WORKER, activeState: "active", subState: "running" },
    });
    expect(agent.asked).toEqual([{ workerId: WORKER, probe: { kind: "unit", unit: "comfyui.service" }, timeoutMs: 2_000 }]);
  });

  test("degraded: starting up or reloading", async () => {
    for (const state of ["activating", "reloading"]) {
      const o = await unit.run({ unit: "vllm" }, checkContext({ workerId: WORKER, probe: localAgent({ vllm: state }).probe }));
      expect(o).toMatchObject({ status: "degraded", latencyMs: null, message: `unit vllm: ${state} (dead)` });
    }
  });

  test("down: failed, inactive, or a state systemd may add later", async () => {
    for (const state of ["failed", "inactive", "deactivating", "maintenance"]) {
      const o = await unit.run({ unit: "vllm" }, checkContext({ workerId: WORKER, probe: localAgent({ vllm: state }).probe }));
      expect(o.status).toBe("down");
      expect(o.message).toBe(`unit vllm: ${state} (dead)`);
    }
  });

  test("down: the agent is not connected, says so", async () => {
    const o = await unit.run({ unit: "vllm" }, checkContext({ workerId: WORKER }));
    expect(o).toMatchObject({ status: "down", message: "unit vllm: agent of worker 7 is not connected" });
  });

  test("down: the agent could not read the unit, or does not answer in time", async () => {
    const missing = await unit.run({ unit: "nope" }, checkContext({ workerId: WORKER, probe: localAgent({}).probe }));
    expect(missing.message).toBe("unit nope: Unit nope could not be found.");
    const silent = (): Promise<WorkerProbeAnswer> => new Promise(() => {});
    const o = await unit.run({ unit: "vllm" }, checkContext({ workerId: WORKER, probe: silent, timeoutMs: 100 }));
    expect(o.message).toBe("unit vllm: the agent of worker 7 did not answer within 100 ms");
    const odd = await unit.run({ unit: "vllm" }, checkContext({ workerId: WORKER, probe: async () => ({ ok: true, result: {} }) }));
    expect(odd.message).toBe("unit vllm: the agent's answer has no activeState");
  });

  test("unitHealth maps systemd's ActiveState", () => {
    expect(["active", "reloading", "activating", "inactive", "failed", "deactivating"].map(unitHealth)).toEqual([
      "healthy",
      "degraded",
      "degraded",
      "down",
      "down",
      "down",
    ]);
  });
});
