// The demo fleet looks like a real one: valid samples, varied load, one hot GPU, processes with users and containers.
import { describe, expect, test } from "bun:test";
import { checkSample, type Sample } from "../protocol/sample.ts";
import { demoScenario } from "./demo.ts";
import { simulatedFleet } from "./fleet.ts";

/** Runs a fleet for `steps` samples `dt` seconds apart; returns every sample per worker. */
function run(workers: number, gpus: number, steps: number, dt: number): Sample[][] {
  const fleet = simulatedFleet(workers, gpus, true);
  const t0 = Date.parse("2026-11-23T10:00:00Z");
  const out: Sample[][] = fleet.map(() => []);
  for (let k = 0; k < steps; k++) fleet.forEach((w, i) => out[i]!.push(w.sample(k, new Date(t0 + k * dt * 1000), dt)));
  return out;
}

describe("vigil simulate --demo's fleet", () => {
  const samples = run(12, 8, 400, 5);
  const last = samples.map((s) => s.at(-1)!);

  test("every sample is a valid wire sample that says it is simulated", () => {
    for (const s of samples.flat()) expect(checkSample(s)).toEqual({ ok: true, sample: s });
    for (const s of last) expect((s.host as { simulated?: boolean }).simulated).toBe(true);
  });

  test("load varies: idle and busy GPUs, values that move between samples", () => {
    const util = last.flatMap((s) => s.gpus.map((g) => g.utilization!));
    expect(util.filter((u) => u <= 5).length).toBeGreaterThanOrEqual(8);
    expect(util.filter((u) => u >= 80).length).toBeGreaterThanOrEqual(16);
    const series = samples[0]!.map((s) => s.gpus[0]!.utilization);
    expect(new Set(series).size).toBeGreaterThan(10);
    const cpu = samples[1]!.map((s) => s.host.cpuPercent);
    expect(new Set(cpu).size).toBeGreaterThan(10);
  });

  test("exactly one GPU runs above 85 °C, and says it is slowing down", () => {
    const { hot } = demoScenario(12, 8);
    for (const step of [50, 200, 399]) {
      const hotOnes = samples.flatMap((s, w) => s[step]!.gpus.filter((g) => g.temperature! > 85).map((g) => [w, g.index]));
      expect(hotOnes).toEqual([[hot!.worker, hot!.gpu]]);
    }
    expect(last[hot!.worker]!.gpus[hot!.gpu]!.throttleReasons).toContain("sw_thermal_slowdown");
  });

  test("busy GPUs hold processes of named users, some in containers, within the GPU's memory", () => {
    const processes = last.flatMap((s) => s.gpus.flatMap((g) => g.processes));
    expect(processes.length).toBeGreaterThan(40);
    expect(new Set(processes.map((p) => p.user)).size).toBeGreaterThanOrEqual(4);
    expect(processes.filter((p) => p.container && /^[0-9a-f]{12}$/.test(p.container)).length).toBeGreaterThan(10);
    for (const g of last.flatMap((s) => s.gpus)) {
      expect(g.memoryUsed!).toBeLessThanOrEqual(g.memoryTotal!);
      expect(g.memoryUsed! + g.memoryFree!).toBe(g.memoryTotal!);
    }
  });

  test("the same names give the same fleet (hardware and jobs), so a demo looks alike on every run", () => {
    const again = run(12, 8, 3, 5);
    expect(again[3]![2]!.gpus.map((g) => g.processes.map((p) => [p.pid, p.user]))).toEqual(
      samples[3]![2]!.gpus.map((g) => g.processes.map((p) => [p.pid, p.user])),
    );
  });

  test("small fleets keep a hot GPU and an offline worker apart", () => {
    expect(demoScenario(1, 8)).toEqual({ hot: { worker: 0, gpu: 5 }, offline: null });
    expect(demoScenario(3, 2)).toEqual({ hot: { worker: 0, gpu: 1 }, offline: 2 });
    expect(demoScenario(4, 0).hot).toBeNull();
  });
});
