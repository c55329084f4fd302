// Runs the collector against the fake built with -DOLD_DRIVER: it loads, falls back to the v1 calls, and what only newer
// drivers tell is null. (Opened by path, this fake shares the process with the full one: see library.test.ts.)
import { afterEach, beforeAll, expect, test } from "bun:test";
import { checkSample } from "../../../src/protocol/sample.ts";
import { fakeNvml, FIXTURE_PROC, sampleAround, type FakeNvml } from "../../../test/fake-nvml/hooks.ts";
import type { GpuSource } from "../gpu/source.ts";
import { openNvml } from "./index.ts";

let old: FakeNvml;
beforeAll(async () => {
  old = await fakeNvml("old");
});

const opened: GpuSource[] = [];
afterEach(() => {
  for (const source of opened.splice(0)) source.close();
});

function open(scenario: string): GpuSource {
  old.useScenario(scenario);
  const source = openNvml({ libPath: old.path, procRoot: FIXTURE_PROC });
  opened.push(source);
  return source;
}

test("an old driver: v1 calls stand in, newer-only values are null", async () => {
  const { gpus } = await open("workstation").collect();
  expect(gpus).toHaveLength(1);
  expect(gpus[0]).toMatchObject({
    uuid: "GPU-5a1c7e2b-0d3f-4c6a-9e8b-1f2a3b4c5d6e",
    cudaVersion: "12.4", // nvmlSystemGetCudaDriverVersion
    pciBusId: "00000000:65:00.0", // nvmlDeviceGetPciInfo_v2
    memoryUsed: 19936, // nvmlMemory_t.used counts the 480 MiB reservation too
    memoryTotal: 49140,
    memoryFree: 29204,
    fanSpeed: 62, // nvmlDeviceGetFanSpeed: fan 0
    fanSpeeds: null, // no nvmlDeviceGetNumFans / _v2
    throttleReasons: ["sw_power_cap"], // nvmlDeviceGetCurrentClocksThrottleReasons
    memoryTemperature: null, // no nvmlDeviceGetFieldValues
    computeCapability: null, // no nvmlDeviceGetCudaComputeCapability
    migMode: null, // no nvmlDeviceGetMigMode
    temperature: 71,
    powerUsage: 243.512,
    eccCorrected: 3,
    processes: [
      { pid: 4101, name: "python3", user: "alice", usedMemoryMiB: 8192, container: "3f4e8a1b2c9d", type: "compute" },
      { pid: 2200, name: "Xorg", user: "root", usedMemoryMiB: 256, container: null, type: "graphics" },
    ],
  });
  for (const fn of [
    "nvmlSystemGetCudaDriverVersion",
    "nvmlDeviceGetPciInfo_v2",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetFanSpeed",
    "nvmlDeviceGetCurrentClocksThrottleReasons",
    "nvmlDeviceGetComputeRunningProcesses",
    "nvmlDeviceGetGraphicsRunningProcesses",
  ]) {
    expect({ fn, called: old.calls(fn) > 0 }).toEqual({ fn, called: true });
  }
});

test("an old driver: 16-byte nvmlProcessInfo_v1_t entries, and a list longer than the buffer", async () => {
  const { gpus } = await open("processes").collect();
  expect(gpus[0]!.processes.map((p) => [p.pid, p.usedMemoryMiB, p.type])).toEqual([
    [4101, 4096, "compute"],
    [4300, 1024, "both"],
    [4400, null, "compute"],
    [5999, 32, "compute"],
    [2200, 128, "graphics"],
  ]);
  expect(gpus[1]!.processes.map((p) => p.pid)).toEqual(Array.from({ length: 80 }, (_, i) => 6000 + i));
});

test("an old driver's readings pass checkSample", async () => {
  for (const name of ["workstation", "h100x8", "gpu-lost", "hotplug"]) {
    const source = open(name);
    for (let i = 0; i < 3; i++) {
      const { gpus, notice } = await source.collect();
      const check = checkSample(sampleAround(gpus, notice));
      expect({ name, check: check.ok ? "ok" : check.error }).toEqual({ name, check: "ok" });
    }
    source.close();
  }
});
