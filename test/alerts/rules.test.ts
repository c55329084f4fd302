// Built-in rules and rule scopes under a scripted clock: GPU lost, throttling, ECC, idle allocation, per-worker and per-GPU overrides, below-rules, host metrics.
import { afterEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { thresholds } from "../../src/db/schema/index.ts";
import { makeGpu } from "../fixtures/samples.ts";
import { Timeline, type TimelineOptions } from "./timeline.ts";

const open: Timeline[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) {
    expect(t.engine.stats.errors).toBe(0);
    await t.close();
  }
});
async function timeline(o: TimelineOptions = {}): Promise<Timeline> {
  const t = await Timeline.open(o);
  open.push(t);
  return t;
}
const rules = (t: Timeline) => t.hooks.received.map((r) => `${r.body.event}:${r.body.alert.rule}:${r.body.alert.gpu?.index ?? "-"}`);

describe("built-in rules", () => {
  test("GPU lost: a GPU gone from the samples (or reported lost) fires; its return resolves; its other alerts wait in no data", async () => {
    const t = await timeline();
    await t.enableBuiltin("gpu_lost");
    await t.rule({});
    const two = (hot: number) => (x: { gpus: unknown[] }) =>
      (x.gpus = [makeGpu(0, { utilization: 50, temperature: 50 }), makeGpu(1, { utilization: 50, temperature: hot })]);
    await t.sample(0, {}, two(90));
    expect(rules(t)).toEqual(["firing:threshold:temperature:1"]);
    await t.sample(1, {}, (x) => (x.gpus = [makeGpu(0, { utilization: 50, temperature: 50 })]));
    expect(rules(t)).toEqual(["firing:threshold:temperature:1", "firing:builtin:gpu_lost:1"]);
    expect(t.engine.list().find((a) => a.rule === "threshold:temperature")!.state).toBe("nodata");
    // NVML's "GPU is lost" keeps it lost.
    await t.sample(
      2,
      {},
      (x) =>
        (x.gpus = [makeGpu(0, { utilization: 50, temperature: 50 }), makeGpu(1, { lost: true, temperature: null, utilization: null })]),
    );
    expect(rules(t)).toHaveLength(2);
    await t.sample(3, {}, two(60));
    expect(rules(t)).toEqual([
      "firing:threshold:temperature:1",
      "firing:builtin:gpu_lost:1",
      "resolved:threshold:temperature:1",
      "resolved:builtin:gpu_lost:1",
    ]);
  });

  test("GPU lost across a head restart: the last stored sample is the baseline", async () => {
    const t = await timeline();
    await t.enableBuiltin("gpu_lost");
    const last = makeGpu(1);
    await t.sample(0, {}, (x) => (x.gpus = [makeGpu(0, { utilization: 50 }), last]));
    await t.restartWith([{ workerId: t.workerId, sample: { gpus: [makeGpu(0), last] } }]);
    await t.sample(10, {}, (x) => (x.gpus = [makeGpu(0, { utilization: 50 })]));
    expect(rules(t)).toEqual(["firing:builtin:gpu_lost:1"]);
  });

  test("throttling: thermal slowdown held for the duration fires a warning; the software power cap alone does not", async () => {
    const t = await timeline();
    await t.enableBuiltin("throttle", { forSeconds: 60 });
    await t.sample(0, { throttleReasons: ["sw_power_cap"] });
    await t.sample(100, { throttleReasons: ["sw_power_cap"] });
    expect(rules(t)).toEqual([]);
    await t.sample(110, { throttleReasons: ["hw_thermal_slowdown"] });
    await t.sample(160, { throttleReasons: ["hw_thermal_slowdown"] });
    expect(rules(t)).toEqual([]);
    await t.sample(171, { throttleReasons: ["hw_thermal_slowdown", "sw_power_cap"] });
    expect(t.told()).toEqual(["firing:warning"]);
    await t.sample(172, { throttleReasons: [] });
    expect(t.told()).toEqual(["firing:warning", "resolved:warning"]);
  });

  test("ECC: an increase of uncorrected errors fires critical at once; it clears after the window without a further increase", async () => {
    const t = await timeline({ settings: { cooldownSeconds: 0 } });
    await t.enableBuiltin("ecc", { params: { clearAfterSeconds: 100 } });
    await t.sample(0, { eccUncorrected: 3 }); // the baseline, not an increase
    await t.sample(1, { eccUncorrected: 3 });
    expect(t.told()).toEqual([]);
    await t.sample(2, { eccUncorrected: 5 });
    expect(t.told()).toEqual(["firing:critical"]);
    expect(t.hooks.received[0]!.body.alert.value).toBe(5);
    await t.sample(90, { eccUncorrected: 5 });
    expect(t.told()).toHaveLength(1);
    await t.sample(103, { eccUncorrected: 5 });
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("idle allocation: VRAM held while utilization stays at 0 for the duration fires; work resumed resolves it", async () => {
    const t = await timeline();
    await t.enableBuiltin("idle_allocation", { forSeconds: 1800 });
    await t.sample(0, { utilization: 0, memoryUsed: 40000 });
    await t.sample(900, { utilization: 0, memoryUsed: 40000 });
    await t.sample(1799, { utilization: 0, memoryUsed: 40000 });
    expect(t.told()).toEqual([]);
    await t.sample(1800, { utilization: 0, memoryUsed: 40000 });
    expect(t.told()).toEqual(["firing:warning"]);
    expect(t.hooks.received[0]!.body.title).toContain("idle GPU memory allocation");
    await t.sample(1801, { utilization: 35, memoryUsed: 40000 });
    expect(t.told()).toEqual(["firing:warning", "resolved:warning"]);
    // An idle GPU with (almost) nothing allocated is just idle.
    await t.sample(2000, { utilization: 0, memoryUsed: 500 });
    await t.sample(4000, { utilization: 0, memoryUsed: 500 });
    expect(t.told()).toHaveLength(2);
  });
});

describe("rule scopes and kinds", () => {
  test("the most specific rule wins: a GPU's own over its worker's over the global one", async () => {
    const t = await timeline();
    await t.rule({}); // global 70 / 85
    await t.rule({ scope: `worker:${1}`, workerId: 1, warning: 90, critical: 95 });
    await t.rule({ scope: `gpu:1:${makeGpu(1).uuid}`, workerId: 1, gpuUuid: makeGpu(1).uuid, warning: 60, critical: 65 });
    await t.sample(0, {}, (x) => (x.gpus = [makeGpu(0, { temperature: 88 }), makeGpu(1, { temperature: 66 })]));
    expect(t.hooks.received.map((r) => [r.body.alert.gpu?.index, r.body.severity, r.body.alert.threshold])).toEqual([[1, "critical", 65]]);
  });

  test("a rule disabled while its alert fires resolves the alert, and says so", async () => {
    const t = await timeline();
    await t.rule({});
    await t.temp(0, 90);
    await t.database.db.update(thresholds).set({ enabled: false }).where(eq(thresholds.metric, "temperature"));
    await t.engine.reload();
    await t.temp(1, 90);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    await t.temp(2, 95);
    expect(t.told()).toHaveLength(2);
  });

  test("a rule that fires below its levels: a PCIe link trained down to x8", async () => {
    const t = await timeline();
    await t.rule({ metric: "pcieLinkWidth", direction: "below", warning: 15, critical: 8 });
    await t.sample(0, { pcieLinkWidth: 16 });
    await t.sample(1, { pcieLinkWidth: 8 });
    expect(t.told()).toEqual(["firing:critical"]);
    expect(t.hooks.received[0]!.body.title).toBe("CRITICAL gpu-07 GPU 0: GPU PCIe link width: 8 lanes (critical at 8 lanes)");
    await t.sample(2, { pcieLinkWidth: 16 });
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("host metrics: the fullest disk, and VRAM as a percentage derived from used and total", async () => {
    const t = await timeline();
    await t.rule({ metric: "host.diskPercent", warning: 80, critical: 90 });
    await t.rule({ metric: "memoryPercent", warning: 85, critical: 95 });
    await t.sample(0, { memoryUsed: 78_000, memoryTotal: 81_559 }, (x) => {
      x.host.disks = [
        { mount: "/", used: 10, total: 100, inodesUsed: 1, inodesTotal: 2 },
        { mount: "/data", used: 85, total: 100, inodesUsed: 1, inodesTotal: 2 },
      ];
    });
    expect(t.hooks.received.map((r) => [r.body.alert.rule, r.body.severity, r.body.alert.gpu?.index ?? null])).toEqual([
      ["threshold:host.diskPercent", "warning", null],
      ["threshold:memoryPercent", "critical", 0],
    ]);
    expect(t.hooks.received[0]!.body.title).toBe("WARNING gpu-07: fullest disk: 85 % (warning at 80 %)");
  });

  test("a metric the device does not report (null) never fires and never counts as zero", async () => {
    const t = await timeline();
    await t.rule({ metric: "fanSpeed", direction: "below", warning: 20, critical: 10 });
    await t.sample(0, { fanSpeed: null });
    await t.sample(1, { fanSpeed: null });
    expect(t.told()).toEqual([]);
    expect(t.engine.list()).toEqual([]);
  });
});

describe("on embedded PGlite", () => {
  test("the same transactions and restart on the embedded database", async () => {
    const t = await timeline({ engine: "pglite" });
    await t.rule({ forSeconds: 10 });
    await t.temp(0, 90);
    await t.restart();
    await t.temp(10, 90);
    await t.restart();
    await t.temp(20, 50);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  }, 30_000);
});
