// Drives the NVML collector through bun:ffi against the fake libnvidia-ml (test/fake-nvml), one scenario per case.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { checkSample, type GpuVitals } from "../../../src/protocol/sample.ts";
import { fakeNvml, FIXTURE_PROC, sampleAround, SCENARIOS, type FakeNvml } from "../../../test/fake-nvml/hooks.ts";
import { GpuSourceUnavailable, type GpuSource } from "../gpu/source.ts";
import { openNvml } from "./index.ts";

let full: FakeNvml;
beforeAll(async () => {
  full = await fakeNvml("full");
});

// The fake reads its scenario at the first nvmlInit_v2, so every source must be shut down before the next test.
const opened: GpuSource[] = [];
afterEach(() => {
  for (const source of opened.splice(0)) source.close();
});

function open(scenario: string, fake = full): GpuSource {
  fake.useScenario(scenario);
  const source = openNvml({ libPath: fake.path, procRoot: FIXTURE_PROC });
  opened.push(source);
  return source;
}

function unavailable(fn: () => unknown): GpuSourceUnavailable {
  try {
    const source = fn() as GpuSource;
    source.close();
  } catch (err) {
    expect(err).toBeInstanceOf(GpuSourceUnavailable);
    return err as GpuSourceUnavailable;
  }
  throw new Error("openNvml succeeded");
}

/** Every field of scenarios/workstation.scenario, converted to the sample's units. */
const WORKSTATION: GpuVitals = {
  index: 0,
  uuid: "GPU-5a1c7e2b-0d3f-4c6a-9e8b-1f2a3b4c5d6e",
  name: "NVIDIA RTX 6000 Ada Generation",
  driverVersion: "550.54.15",
  cudaVersion: "12.4",
  utilization: 87,
  memoryUtilization: 41,
  memoryUsed: 19456, // 20401094656 B (nvmlMemory_v2_t.used, reservation excluded)
  memoryTotal: 49140, // 51527024640 B
  memoryFree: 29204, // 30622613504 B
  temperature: 71,
  powerUsage: 243.512, // 243512 mW
  powerLimit: 300,
  fanSpeed: 62,
  smClock: 2505,
  memoryClock: 10001,
  pcieTxKBps: 182340,
  pcieRxKBps: 95120,
  encoderUtilization: 12,
  decoderUtilization: 7,
  pstate: 2,
  throttleReasons: ["sw_power_cap"],
  eccCorrected: 3, // volatile, not the aggregate 17
  eccUncorrected: 0,
  processes: [
    { pid: 4101, name: "python3", user: "alice", usedMemoryMiB: 8192, container: "3f4e8a1b2c9d", type: "compute" },
    { pid: 2200, name: "Xorg", user: "root", usedMemoryMiB: 256, container: null, type: "graphics" },
  ],
  lost: false,
  pciBusId: "00000000:65:00.0",
  serial: "1322023045678",
  computeCapability: "8.9",
  migMode: false,
  powerLimitDefault: 300,
  memoryTemperature: 78,
  fanSpeeds: [62, 64],
  graphicsClock: 2505,
  maxSmClock: 3105,
  maxMemoryClock: 10001,
  maxGraphicsClock: 3105,
  pcieLinkGen: 4,
  pcieLinkWidth: 16,
};

test("a GPU that answers everything: every value exactly as the scenario says", async () => {
  const reading = await open("workstation").collect();
  expect(reading).toEqual({ gpus: [WORKSTATION] });
  // The newest variant of each versioned call was the one used.
  expect(full.calls("nvmlDeviceGetMemoryInfo_v2")).toBeGreaterThan(0);
  expect(full.calls("nvmlDeviceGetMemoryInfo")).toBe(0);
  expect(full.calls("nvmlDeviceGetComputeRunningProcesses_v3")).toBe(1);
  expect(full.calls("nvmlDeviceGetGraphicsRunningProcesses_v3")).toBe(1);
  expect(full.calls("nvmlDeviceGetCurrentClocksEventReasons")).toBe(1);
  expect(full.calls("nvmlDeviceGetCurrentClocksThrottleReasons")).toBe(0);
  expect(full.calls("nvmlSystemGetCudaDriverVersion_v2")).toBe(1);
});

test("eight H100s with their processes and owners", async () => {
  const source = open("h100x8");
  const { gpus, notice } = await source.collect();
  expect(notice).toBeUndefined();
  expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(gpus.map((g) => g.pciBusId)).toEqual([
    "00000000:18:00.0",
    "00000000:2A:00.0",
    "00000000:3A:00.0",
    "00000000:5D:00.0",
    "00000000:9A:00.0",
    "00000000:AB:00.0",
    "00000000:BA:00.0",
    "00000000:DB:00.0",
  ]);
  const last = gpus[7]!;
  expect(last).toMatchObject({
    uuid: "GPU-00000007-8a4b-4c1d-9e2f-3a4b5c6d7e8f",
    name: "NVIDIA H100 80GB HBM3",
    serial: "1654922000007",
    utilization: 97,
    memoryUtilization: 52,
    memoryUsed: 68608,
    memoryTotal: 81559,
    memoryFree: 12410,
    temperature: 67,
    memoryTemperature: 75,
    powerUsage: 658.638,
    powerLimit: 700,
    powerLimitDefault: 700,
    fanSpeed: null, // datacenter board: no fans
    fanSpeeds: null,
    pcieTxKBps: 20700,
    pcieRxKBps: 40700,
    pcieLinkGen: 5,
    pcieLinkWidth: 16,
    throttleReasons: [],
    eccCorrected: 0,
    eccUncorrected: 0,
    computeCapability: "9.0",
    migMode: false,
    processes: [{ pid: 7007, name: "pt_main_thread", user: "bob", usedMemoryMiB: 65536, container: "5e6f7a8b9c0d", type: "compute" }],
  });
  expect(gpus[0]!.throttleReasons).toEqual(["sw_power_cap"]);
  expect(gpus[0]!.processes).toEqual([
    { pid: 7000, name: "pt_main_thread", user: "bob", usedMemoryMiB: 58368, container: "5e6f7a8b9c0d", type: "compute" },
    { pid: 4101, name: "python3", user: "alice", usedMemoryMiB: 2048, container: "3f4e8a1b2c9d", type: "compute" },
    { pid: 5000, name: "vllm", user: "bob", usedMemoryMiB: 1024, container: null, type: "compute" },
  ]);
  // A second sweep reads the same, into new objects: the first reading is not overwritten by buffer reuse.
  const again = await source.collect();
  expect(again.gpus).toEqual(gpus);
  expect(again.gpus[0]).not.toBe(gpus[0]!);
});

test("processes: compute and graphics merged by pid, unknown memory, exited pids, a list longer than the buffer", async () => {
  const source = open("processes");
  const { gpus } = await source.collect();
  expect(gpus[0]!.processes).toEqual([
    { pid: 4101, name: "python3", user: "alice", usedMemoryMiB: 4096, container: "3f4e8a1b2c9d", type: "compute" },
    // In both lists: one entry, memory not double counted.
    { pid: 4300, name: "blender", user: "alice", usedMemoryMiB: 1024, container: null, type: "both" },
    // NVML_VALUE_NOT_AVAILABLE; comm is cut at 15 characters, the name comes from cmdline.
    { pid: 4400, name: "nvidia-cuda-mps-server", user: "bob", usedMemoryMiB: null, container: null, type: "compute" },
    // Exited between NVML's answer and the /proc lookup.
    { pid: 5999, name: null, user: null, usedMemoryMiB: 32, container: null, type: "compute" },
    { pid: 2200, name: "Xorg", user: "root", usedMemoryMiB: 128, container: null, type: "graphics" },
  ]);
  const many = gpus[1]!.processes;
  expect(many).toHaveLength(80);
  expect(many.map((p) => p.pid)).toEqual(Array.from({ length: 80 }, (_, i) => 6000 + i));
  expect(many.every((p) => p.usedMemoryMiB === 100 && p.type === "compute")).toBe(true);
  // GPU 1 needed a second call after INSUFFICIENT_SIZE; the grown buffer then serves every later sweep in one call.
  expect(full.calls("nvmlDeviceGetComputeRunningProcesses_v3")).toBe(3);
  await source.collect();
  expect(full.calls("nvmlDeviceGetComputeRunningProcesses_v3")).toBe(5);
});

test("NOT_SUPPORTED gives null and the call is not made again on that GPU", async () => {
  const source = open("no-fans");
  for (let i = 0; i < 3; i++) {
    const { gpus } = await source.collect();
    expect(gpus[0]).toMatchObject({
      temperature: 34,
      memoryTemperature: 41,
      fanSpeed: null,
      fanSpeeds: null,
      encoderUtilization: null,
      decoderUtilization: null,
      eccCorrected: null, // the scenario gives no ECC: NOT_SUPPORTED as on a board with ECC off
      smClock: null,
      powerUsage: 61.234,
    });
  }
  expect(full.calls("nvmlDeviceGetTemperature")).toBe(3);
  expect(full.calls("nvmlDeviceGetFieldValues")).toBe(3);
  expect(full.calls("nvmlDeviceGetNumFans")).toBe(1); // at enumeration; NOT_SUPPORTED, so fan 0 through v1...
  expect(full.calls("nvmlDeviceGetFanSpeed")).toBe(1); // ...once
  expect(full.calls("nvmlDeviceGetFanSpeed_v2")).toBe(0);
  expect(full.calls("nvmlDeviceGetEncoderUtilization")).toBe(1);
  expect(full.calls("nvmlDeviceGetDecoderUtilization")).toBe(1);
  expect(full.calls("nvmlDeviceGetTotalEccErrors")).toBe(1);
  expect(full.calls("nvmlDeviceGetClockInfo")).toBe(3); // SM, graphics and memory clocks are remembered one by one
});

test("a field value the board lacks (memory temperature) is asked once", async () => {
  const source = open("processes");
  for (let i = 0; i < 3; i++) expect((await source.collect()).gpus.map((g) => g.memoryTemperature)).toEqual([null, null]);
  expect(full.calls("nvmlDeviceGetFieldValues")).toBe(2);
});

test("throttle reasons are decoded from the 64-bit mask", async () => {
  const { gpus } = await open("throttling").collect();
  expect(gpus.map((g) => g.throttleReasons)).toEqual([
    ["sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "unknown_bit_12"],
    ["gpu_idle", "applications_clocks_setting", "sync_boost", "display_clock_setting"],
    [],
  ]);
});

test("ECC: volatile counts, read as two words; ECC off is null", async () => {
  const { gpus } = await open("ecc-errors").collect();
  expect(gpus.map((g) => [g.eccCorrected, g.eccUncorrected])).toEqual([
    [4294967301, 2],
    [null, null],
  ]);
});

test("GPU_IS_LOST: lost with null readings, identity kept, said once", async () => {
  const source = open("gpu-lost");
  const first = await source.collect();
  expect(first.notice).toBe(
    "GPU 1 (GPU-11111111-1111-2222-3333-444444444444) is lost: NVML_ERROR_GPU_IS_LOST; GPU 2 (uuid unknown) is lost: NVML_ERROR_GPU_IS_LOST",
  );
  const [healthy, lost, lostAtStart] = first.gpus;
  expect(healthy).toMatchObject({ index: 0, lost: false, temperature: 40 });
  expect(lost).toMatchObject({
    index: 1,
    uuid: "GPU-11111111-1111-2222-3333-444444444444",
    name: "NVIDIA H100 80GB HBM3",
    pciBusId: "00000000:2A:00.0",
    serial: "1654922001234",
    lost: true,
    processes: [],
    throttleReasons: [],
  });
  // Every reading is null; only identity (and the machine's driver versions) remain.
  const kept = new Set([
    "index",
    "uuid",
    "name",
    "pciBusId",
    "serial",
    "driverVersion",
    "cudaVersion",
    "lost",
    "processes",
    "throttleReasons",
  ]);
  for (const [key, value] of Object.entries(lost!)) if (!kept.has(key)) expect({ key, value }).toEqual({ key, value: null });
  // Its own identity although NVML never gave its UUID: two such GPUs must not share one record on the head.
  expect(lostAtStart).toMatchObject({
    index: 2,
    uuid: "unidentified-index-2",
    name: "unidentified GPU (lost before it could be read)",
    lost: true,
    temperature: null,
  });

  const second = await source.collect();
  expect(second.notice).toBeUndefined();
  expect(second.gpus.map((g) => g.lost)).toEqual([false, true, true]);
  // A lost GPU costs one call per sweep (the first, which finds it lost), not one per metric.
  expect(full.calls("nvmlDeviceGetUtilizationRates")).toBe(4);
  expect(full.calls("nvmlDeviceGetTemperature")).toBe(2);
});

test("a change in the number of GPUs re-enumerates and says so", async () => {
  const source = open("hotplug");
  const counts: [number, string | undefined][] = [];
  for (let i = 0; i < 4; i++) {
    const { gpus, notice } = await source.collect();
    counts.push([gpus.length, notice]);
    expect(gpus.map((g) => g.temperature)).toEqual([50, 51, 52, 53].slice(0, gpus.length));
  }
  expect(counts).toEqual([
    [4, undefined],
    [3, "GPU count changed from 4 to 3"],
    [3, undefined],
    [4, "GPU count changed from 3 to 4"],
  ]);
  expect(full.calls("nvmlDeviceGetHandleByIndex_v2")).toBe(4 + 3 + 4);
});

test("nvmlInit_v2 failing is GpuSourceUnavailable with NVML's name and words, and leaves NVML usable", () => {
  full.useScenario("init-failure");
  const err = unavailable(() => openNvml({ libPath: full.path }));
  expect(err.message).toBe("NVML init failed: NVML_ERROR_DRIVER_NOT_LOADED (Driver Not Loaded)");
  expect(full.calls("nvmlShutdown")).toBe(0); // init failed: nothing to shut down
  expect(open("no-fans")).toBeDefined(); // the next open reads its scenario afresh
});

test("a missing library is GpuSourceUnavailable with the loader's reason", () => {
  const err = unavailable(() => openNvml({ libPath: "/nonexistent/lib64/libnvidia-ml.so.1" }));
  expect(err.message).toBe(
    "NVML not found: /nonexistent/lib64/libnvidia-ml.so.1: cannot open shared object file: No such file or directory",
  );
});

test("by default libnvidia-ml.so.1 is looked up by the loader (in a fresh process: the fakes here would answer)", () => {
  const script = `
    import { openNvml } from ${JSON.stringify(join(import.meta.dir, "index.ts"))};
    try { openNvml({}).close(); console.log("opened"); } catch (err) { console.log(err.name + ": " + err.message); }
  `;
  const child = Bun.spawnSync([process.execPath, "-e", script], { env: { ...process.env, LD_LIBRARY_PATH: "" } });
  const out = child.stdout.toString().trim();
  // A machine with an NVIDIA driver opens it, or refuses at init; everywhere else the loader's words come through.
  if (out !== "opened" && !out.includes("NVML init failed")) {
    expect(out).toBe("GpuSourceUnavailable: NVML not found: libnvidia-ml.so.1: cannot open shared object file: No such file or directory");
  }
});

test("close() shuts NVML down once; collect() afterwards is refused", async () => {
  const source = open("workstation");
  await source.collect();
  source.close();
  source.close();
  expect(full.calls("nvmlShutdown")).toBe(1);
  await expect(source.collect()).rejects.toThrow("NVML source is closed");
});

test("every scenario's readings pass checkSample", async () => {
  const names = readdirSync(SCENARIOS)
    .filter((f) => f.endsWith(".scenario") && f !== "init-failure.scenario")
    .map((f) => f.replace(/\.scenario$/, ""));
  expect(names.length).toBeGreaterThanOrEqual(8);
  for (const name of names) {
    const source = open(name);
    for (let i = 0; i < 3; i++) {
      const { gpus, notice } = await source.collect();
      const check = checkSample(sampleAround(gpus, notice));
      expect({ name, check: check.ok ? "ok" : check.error }).toEqual({ name, check: "ok" });
    }
    source.close();
  }
});
