// Checks the nvidia-smi parsers against every capture in test/fake-nvidia-smi, value by value.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { GpuVitals } from "../../../src/protocol/sample.ts";
import {
  attachProcesses,
  decodeThrottleReasons,
  isUnavailable,
  parseComputeApps,
  parseGpuQuery,
  parseMigMode,
  parsePstate,
  parseRefusedField,
  parseSummaryBanner,
  parseUnreachable,
  sameBusId,
  splitRow,
} from "./parse.ts";
import { THROTTLE_REASONS } from "../nvml/throttle.ts";
import { GPU_FIELDS, preferredFields, withoutName, type ResolvedField } from "./query.ts";

const CAPTURES = join(import.meta.dir, "../../../test/fake-nvidia-smi/captures");
const read = (capture: string, file: string) => readFileSync(join(CAPTURES, capture, file), "utf8");

/** The columns a capture was recorded with, as the collector would have resolved them. */
function fieldsOf(capture: string): ResolvedField[] {
  return read(capture, "query-gpu.fields")
    .trim()
    .split(",")
    .map((name) => ({ key: GPU_FIELDS.find((f) => f.names.includes(name))!.key, name }));
}

function query(capture: string, cuda: string | null = parseSummaryBanner(read(capture, "plain.txt"))!.cudaVersion) {
  return parseGpuQuery(read(capture, "query-gpu.csv"), fieldsOf(capture), cuda);
}

const pick = <K extends keyof GpuVitals>(gpus: GpuVitals[], ...keys: K[]) =>
  gpus.map((g) => Object.fromEntries(keys.map((k) => [k, g[k]])) as Pick<GpuVitals, K>);

describe("query.ts and the captures agree", () => {
  test("a current driver is asked for every field by its preferred name, as h100-8x recorded", () => {
    expect(
      preferredFields()
        .map((f) => f.name)
        .join(","),
    ).toBe(read("h100-8x", "query-gpu.fields").trim());
  });

  test("narrowing by what driver 470 refuses gives the field list the V100 capture recorded", () => {
    const refused = read("v100-4x-470", "unsupported-fields").trim().split("\n");
    let fields = preferredFields();
    for (let name = fields.find((f) => refused.includes(f.name))?.name; name; name = fields.find((f) => refused.includes(f.name))?.name) {
      fields = withoutName(fields, name)!;
    }
    expect(fields.map((f) => f.name).join(",")).toBe(read("v100-4x-470", "query-gpu.fields").trim());
  });

  test("withoutName: the next name, then nothing; a required field cannot go", () => {
    const fields = preferredFields();
    const gen = withoutName(fields, "pcie.link.gen.current")!;
    expect(gen.find((f) => f.key === "pcieLinkGen")).toEqual({ key: "pcieLinkGen", name: "pcie.link.gen.gpucurrent" });
    expect(withoutName(gen, "pcie.link.gen.gpucurrent")!.some((f) => f.key === "pcieLinkGen")).toBe(false);
    expect(withoutName(fields, "compute_cap")).toHaveLength(fields.length - 1);
    expect(withoutName(fields, "uuid")).toBeNull();
    expect(withoutName(fields, "not.asked")).toBeNull();
  });
});

describe("parseGpuQuery", () => {
  test("h100-8x: eight datacenter GPUs, fans [N/A], ECC, one at its power cap", () => {
    const { gpus, unreachable } = query("h100-8x");
    expect(unreachable).toEqual([]);
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: "GPU-00c363ff-56b0-69a1-af41-2a23ea2bb062",
      name: "NVIDIA H100 80GB HBM3",
      driverVersion: "570.133.20",
      cudaVersion: "12.8",
      utilization: 100,
      memoryUtilization: 43,
      memoryUsed: 74391,
      memoryTotal: 81559,
      memoryFree: 6690,
      temperature: 61,
      powerUsage: 668.41,
      powerLimit: 700,
      fanSpeed: null,
      smClock: 1980,
      memoryClock: 2619,
      pcieTxKBps: null,
      pcieRxKBps: null,
      encoderUtilization: 0,
      decoderUtilization: 0,
      pstate: 0,
      throttleReasons: [],
      eccCorrected: 0,
      eccUncorrected: 0,
      processes: [],
      lost: false,
      pciBusId: "00000000:18:00.0",
      serial: "1654922031877",
      computeCapability: "9.0",
      migMode: false,
      powerLimitDefault: 700,
      memoryTemperature: 71,
      fanSpeeds: null,
      graphicsClock: 1980,
      maxSmClock: 1980,
      maxMemoryClock: 2619,
      maxGraphicsClock: 1980,
      pcieLinkGen: 5,
      pcieLinkWidth: 16,
    });
    expect(
      pick(gpus, "index", "pciBusId", "utilization", "temperature", "powerUsage", "smClock", "throttleReasons", "eccCorrected"),
    ).toEqual([
      {
        index: 0,
        pciBusId: "00000000:18:00.0",
        utilization: 100,
        temperature: 61,
        powerUsage: 668.41,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
      {
        index: 1,
        pciBusId: "00000000:2A:00.0",
        utilization: 99,
        temperature: 62,
        powerUsage: 655.87,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
      {
        index: 2,
        pciBusId: "00000000:3A:00.0",
        utilization: 100,
        temperature: 59,
        powerUsage: 641.09,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
      {
        index: 3,
        pciBusId: "00000000:5D:00.0",
        utilization: 100,
        temperature: 66,
        powerUsage: 699.12,
        smClock: 1755,
        throttleReasons: ["sw_power_cap"],
        eccCorrected: 0,
      },
      {
        index: 4,
        pciBusId: "00000000:9A:00.0",
        utilization: 98,
        temperature: 58,
        powerUsage: 632.54,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
      {
        index: 5,
        pciBusId: "00000000:AB:00.0",
        utilization: 100,
        temperature: 60,
        powerUsage: 659.3,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
      {
        index: 6,
        pciBusId: "00000000:BA:00.0",
        utilization: 99,
        temperature: 63,
        powerUsage: 671.78,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 3,
      },
      {
        index: 7,
        pciBusId: "00000000:DB:00.0",
        utilization: 100,
        temperature: 57,
        powerUsage: 628.15,
        smClock: 1980,
        throttleReasons: [],
        eccCorrected: 0,
      },
    ]);
  });

  test("rtx4090-2x: consumer boards have fans but no ECC, serial, HBM temperature or MIG", () => {
    const { gpus } = query("rtx4090-2x");
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: "GPU-85136a36-ac6e-8880-029d-2975e1a28364",
      name: "NVIDIA GeForce RTX 4090",
      driverVersion: "560.35.03",
      cudaVersion: "12.6",
      utilization: 97,
      memoryUtilization: 61,
      memoryUsed: 22816,
      memoryTotal: 24564,
      memoryFree: 1402,
      temperature: 71,
      powerUsage: 412.36,
      powerLimit: 450,
      fanSpeed: 68,
      smClock: 2730,
      memoryClock: 10501,
      pcieTxKBps: null,
      pcieRxKBps: null,
      encoderUtilization: 0,
      decoderUtilization: 0,
      pstate: 2,
      throttleReasons: [],
      eccCorrected: null,
      eccUncorrected: null,
      processes: [],
      lost: false,
      pciBusId: "00000000:01:00.0",
      serial: null,
      computeCapability: "8.9",
      migMode: null,
      powerLimitDefault: 450,
      memoryTemperature: null,
      fanSpeeds: null,
      graphicsClock: 2730,
      maxSmClock: 3120,
      maxMemoryClock: 10501,
      maxGraphicsClock: 3120,
      pcieLinkGen: 4,
      pcieLinkWidth: 16,
    });
    expect(pick(gpus, "fanSpeed", "pstate", "throttleReasons", "powerUsage", "pcieLinkGen", "smClock", "memoryClock")[1]).toEqual({
      fanSpeed: 30,
      pstate: 8,
      throttleReasons: ["gpu_idle"],
      powerUsage: 17.82,
      pcieLinkGen: 1,
      smClock: 210,
      memoryClock: 405,
    });
  });

  test("a100-mig: a GPU in MIG mode reports no utilization; the other does", () => {
    const { gpus } = query("a100-mig");
    expect(
      pick(
        gpus,
        "name",
        "migMode",
        "utilization",
        "memoryUtilization",
        "encoderUtilization",
        "decoderUtilization",
        "memoryUsed",
        "memoryFree",
        "memoryTotal",
      ),
    ).toEqual([
      {
        name: "NVIDIA A100-SXM4-80GB",
        migMode: true,
        utilization: null,
        memoryUtilization: null,
        encoderUtilization: null,
        decoderUtilization: null,
        memoryUsed: 24891,
        memoryFree: 56474,
        memoryTotal: 81920,
      },
      {
        name: "NVIDIA A100-SXM4-80GB",
        migMode: false,
        utilization: 63,
        memoryUtilization: 27,
        encoderUtilization: 0,
        decoderUtilization: 0,
        memoryUsed: 30562,
        memoryFree: 50803,
        memoryTotal: 81920,
      },
    ]);
    expect(
      pick(gpus, "computeCapability", "memoryTemperature", "powerUsage", "powerLimit", "maxSmClock", "maxMemoryClock", "cudaVersion"),
    ).toEqual([
      {
        computeCapability: "8.0",
        memoryTemperature: 52,
        powerUsage: 168.27,
        powerLimit: 400,
        maxSmClock: 1410,
        maxMemoryClock: 1593,
        cudaVersion: "12.4",
      },
      {
        computeCapability: "8.0",
        memoryTemperature: 58,
        powerUsage: 287.04,
        powerLimit: 400,
        maxSmClock: 1410,
        maxMemoryClock: 1593,
        cudaVersion: "12.4",
      },
    ]);
  });

  test("v100-4x-470: the old throttle field decodes alike; fields 470 lacks are null", () => {
    const { gpus } = query("v100-4x-470");
    expect(pick(gpus, "index", "temperature", "memoryTemperature", "smClock", "throttleReasons", "eccCorrected", "powerUsage")).toEqual([
      { index: 0, temperature: 61, memoryTemperature: 58, smClock: 1530, throttleReasons: [], eccCorrected: 0, powerUsage: 163.44 },
      { index: 1, temperature: 63, memoryTemperature: 60, smClock: 1530, throttleReasons: [], eccCorrected: 0, powerUsage: 171.02 },
      {
        index: 2,
        temperature: 87,
        memoryTemperature: 84,
        smClock: 765,
        throttleReasons: ["hw_slowdown", "hw_thermal_slowdown"],
        eccCorrected: 2,
        powerUsage: 118.65,
      },
      {
        index: 3,
        temperature: 64,
        memoryTemperature: 61,
        smClock: 1440,
        throttleReasons: ["sw_power_cap"],
        eccCorrected: 0,
        powerUsage: 299.87,
      },
    ]);
    for (const g of gpus) {
      expect(
        pick(
          [g],
          "name",
          "driverVersion",
          "cudaVersion",
          "encoderUtilization",
          "decoderUtilization",
          "computeCapability",
          "migMode",
          "memoryTotal",
          "pcieLinkGen",
          "maxMemoryClock",
        )[0],
      ).toEqual({
        name: "Tesla V100-SXM2-32GB",
        driverVersion: "470.256.02",
        cudaVersion: "11.4",
        encoderUtilization: null,
        decoderUtilization: null,
        computeCapability: null,
        migMode: null,
        memoryTotal: 32510,
        pcieLinkGen: 3,
        maxMemoryClock: 877,
      });
    }
  });

  test("t4: one inference GPU with the video engines busy", () => {
    expect(query("t4").gpus).toEqual([
      {
        index: 0,
        uuid: "GPU-cd3ddc2e-92b1-2c1b-2403-4e15f12ed5dc",
        name: "Tesla T4",
        driverVersion: "535.230.02",
        cudaVersion: "12.2",
        utilization: 58,
        memoryUtilization: 31,
        memoryUsed: 6821,
        memoryTotal: 15360,
        memoryFree: 8282,
        temperature: 52,
        powerUsage: 41.37,
        powerLimit: 70,
        fanSpeed: null,
        smClock: 1590,
        memoryClock: 5000,
        pcieTxKBps: null,
        pcieRxKBps: null,
        encoderUtilization: 18,
        decoderUtilization: 34,
        pstate: 0,
        throttleReasons: [],
        eccCorrected: 0,
        eccUncorrected: 0,
        processes: [],
        lost: false,
        pciBusId: "00000000:00:1E.0",
        serial: "1562420017934",
        computeCapability: "7.5",
        migMode: null,
        powerLimitDefault: 70,
        memoryTemperature: null,
        fanSpeeds: null,
        graphicsClock: 1590,
        maxSmClock: 1590,
        maxMemoryClock: 5001,
        maxGraphicsClock: 1590,
        pcieLinkGen: 3,
        pcieLinkWidth: 16,
      },
    ]);
  });

  test("h100-8x-reset-required: the GPU answering [GPU requires reset] is lost, known only by who it is", () => {
    const { gpus } = query("h100-8x-reset-required");
    expect(gpus.map((g) => g.lost)).toEqual([false, false, false, false, false, true, false, false]);
    const lost = gpus[5]!;
    expect(pick([lost], "index", "uuid", "name", "pciBusId", "serial", "driverVersion", "cudaVersion")[0]).toEqual({
      index: 5,
      uuid: "GPU-587b4015-b4e5-93c9-2fc5-14c279fbcc03",
      name: "NVIDIA H100 80GB HBM3",
      pciBusId: "00000000:AB:00.0",
      serial: "1654922032264",
      driverVersion: "570.133.20",
      cudaVersion: "12.8",
    });
    // Even memory.total, which the driver still knows, is left out: every vital of a lost GPU is null.
    expect(lost.memoryTotal).toBeNull();
    expect(lost.utilization).toBeNull();
    expect(lost.throttleReasons).toEqual([]);
    expect(lost.pstate).toBeNull();
  });

  test("h100-8x-fell-off-bus: the GPU nvidia-smi cannot open is an error line, not a row", () => {
    const { gpus, unreachable } = query("h100-8x-fell-off-bus");
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(unreachable).toEqual([
      { busId: "0000:5D:00.0", message: "Unable to determine the device handle for GPU0000:5D:00.0: Unknown Error" },
    ]);
  });

  test("h100-7x: after the reboot, seven GPUs renumbered", () => {
    const { gpus } = query("h100-7x");
    expect(gpus.map((g) => [g.index, g.pciBusId])).toEqual([
      [0, "00000000:18:00.0"],
      [1, "00000000:2A:00.0"],
      [2, "00000000:3A:00.0"],
      [3, "00000000:9A:00.0"],
      [4, "00000000:AB:00.0"],
      [5, "00000000:BA:00.0"],
      [6, "00000000:DB:00.0"],
    ]);
  });

  test("a row of the wrong width, or a value that is not a number, fails naming what", () => {
    const fields = fieldsOf("t4");
    expect(() => parseGpuQuery("0, GPU-x, Tesla T4\n", fields, null)).toThrow(
      'failed to parse nvidia-smi --query-gpu: expected 33 values, got "0, GPU-x, Tesla T4"',
    );
    const withUnits = read("t4", "query-gpu.csv").replace(", 41.37, ", ", 41.37 W, ");
    expect(() => parseGpuQuery(withUnits, fields, null)).toThrow('failed to parse nvidia-smi --query-gpu: powerUsage is "41.37 W"');
    expect(() => parseGpuQuery(read("t4", "query-gpu.csv").replace("P0", "Fast"), fields, null)).toThrow('pstate is "Fast"');
  });

  test("a product name holding a comma survives; \\r\\n line ends are fine", () => {
    const line = read("t4", "query-gpu.csv").replace("Tesla T4", "NVIDIA RTX A6000, Rev. B").replace("\n", "\r\n");
    expect(parseGpuQuery(line, fieldsOf("t4"), null).gpus[0]!.name).toBe("NVIDIA RTX A6000, Rev. B");
  });

  test("one [Unknown Error] column is a failed reading, not a lost GPU; a row of nothing else is", () => {
    const fields = fieldsOf("t4");
    const one = parseGpuQuery(read("t4", "query-gpu.csv").replace(", 41.37, ", ", [Unknown Error], "), fields, null).gpus[0]!;
    expect([one.lost, one.powerUsage, one.temperature]).toEqual([false, null, 52]);
    const values = read("t4", "query-gpu.csv").trim().split(", ");
    const allUnknown = [...values.slice(0, 6), ...values.slice(6).map(() => "[Unknown Error]")].join(", ");
    expect(parseGpuQuery(allUnknown, fields, null).gpus[0]!.lost).toBe(true);
  });
});

describe("value mapping", () => {
  test("isUnavailable: every way nvidia-smi says there is no value", () => {
    for (const v of [
      "[N/A]",
      "[Not Supported]",
      "N/A",
      "",
      "Not Supported",
      "[Requested functionality has been deprecated]",
      "[Insufficient Permissions]",
      "[Unknown Error]",
    ]) {
      expect(isUnavailable(v)).toBe(true);
    }
    for (const v of ["0", "Disabled", "P0", "NVIDIA H100 80GB HBM3", "[N/A"]) expect(isUnavailable(v)).toBe(false);
  });

  test("splitRow: exact width, surplus into the free-text column, too few is null", () => {
    expect(splitRow("a, b, c", 3, 1)).toEqual(["a", "b", "c"]);
    expect(splitRow("a, b, x, c", 3, 1)).toEqual(["a", "b, x", "c"]);
    expect(splitRow("a, , c", 3, 1)).toEqual(["a", "", "c"]);
    expect(splitRow("a, b", 3, 1)).toBeNull();
    expect(splitRow("a, b, c, d", 3, -1)).toBeNull();
  });

  test("parsePstate: P0 to P15 as numbers", () => {
    expect([parsePstate("P0"), parsePstate("P8"), parsePstate("P12"), parsePstate("[N/A]"), parsePstate("Unknown")]).toEqual([
      0,
      8,
      12,
      null,
      null,
    ]);
    expect(() => parsePstate("8")).toThrow('pstate is "8"');
  });

  test("parseMigMode: Enabled, Disabled, or not a MIG board", () => {
    expect([parseMigMode("Enabled"), parseMigMode("Disabled"), parseMigMode("[N/A]")]).toEqual([true, false, null]);
    expect(() => parseMigMode("Pending")).toThrow('mig.mode.current is "Pending"');
  });

  test("decodeThrottleReasons: each bit by the name the NVML source gives it", () => {
    expect(THROTTLE_REASONS.map(([bit]) => decodeThrottleReasons(`0x${bit.toString(16).padStart(16, "0")}`))).toEqual([
      ["gpu_idle"],
      ["applications_clocks_setting"],
      ["sw_power_cap"],
      ["hw_slowdown"],
      ["sync_boost"],
      ["sw_thermal_slowdown"],
      ["hw_thermal_slowdown"],
      ["hw_power_brake_slowdown"],
      ["display_clock_setting"],
    ]);
    expect(decodeThrottleReasons("0x0000000000000000")).toEqual([]);
    expect(decodeThrottleReasons("0x0000000000000004")).toEqual(["sw_power_cap"]);
    expect(decodeThrottleReasons("0x00000000000000C8")).toEqual(["hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"]);
    expect(decodeThrottleReasons("0x00000000000001FF")).toHaveLength(9);
    expect(decodeThrottleReasons("0x0000000000000201")).toEqual(["gpu_idle", "unknown_bit_9"]);
    expect(decodeThrottleReasons("0x8000000000000004")).toEqual(["sw_power_cap", "unknown_bit_63"]);
    expect(decodeThrottleReasons("[N/A]")).toEqual([]);
    expect(() => decodeThrottleReasons("Active")).toThrow('clocks event reasons are "Active"');
  });

  test("sameBusId: nvidia-smi's 8- and 4-digit domains, any case", () => {
    expect(sameBusId("00000000:5D:00.0", "0000:5d:00.0")).toBe(true);
    expect(sameBusId("00000000:5D:00.0", "0000:5E:00.0")).toBe(false);
  });

  test("parseUnreachable: the spellings of the device-handle error across drivers", () => {
    expect(parseUnreachable("Unable to determine the device handle for GPU 0000:0B:00.0: Unknown Error")?.busId).toBe("0000:0B:00.0");
    expect(parseUnreachable("Unable to determine the device handle for GPU1: 0000:34:00.0: Unknown Error")?.busId).toBe("0000:34:00.0");
    expect(parseUnreachable("Unable to determine the device handle for GPU1")).toEqual({
      busId: null,
      message: "Unable to determine the device handle for GPU1",
    });
    expect(parseUnreachable("0, GPU-x, Tesla T4")).toBeNull();
  });
});

describe("parseSummaryBanner", () => {
  test("each capture's table gives its driver and CUDA version", () => {
    const banners = ["h100-8x", "rtx4090-2x", "a100-mig", "v100-4x-470", "t4", "h100-8x-fell-off-bus"].map((c) =>
      parseSummaryBanner(read(c, "plain.txt")),
    );
    expect(banners).toEqual([
      { driverVersion: "570.133.20", cudaVersion: "12.8" },
      { driverVersion: "560.35.03", cudaVersion: "12.6" },
      { driverVersion: "550.90.07", cudaVersion: "12.4" },
      { driverVersion: "470.256.02", cudaVersion: "11.4" },
      { driverVersion: "535.230.02", cudaVersion: "12.2" },
      { driverVersion: "570.133.20", cudaVersion: "12.8" },
    ]);
  });

  test("the 610 banner spells it KMD / CUDA UMD; before 410 there is no CUDA version", () => {
    expect(parseSummaryBanner("| NVIDIA-SMI 610.57.04              KMD Version: 610.57.04     CUDA UMD Version: 13.3     |")).toEqual({
      driverVersion: "610.57.04",
      cudaVersion: "13.3",
    });
    expect(parseSummaryBanner("| NVIDIA-SMI 396.26                 Driver Version: 396.26                    |")).toEqual({
      driverVersion: "396.26",
      cudaVersion: null,
    });
    expect(parseSummaryBanner("No devices were found\n")).toBeNull();
  });

  test("parseRefusedField names the field an old driver does not know", () => {
    expect(parseRefusedField('Field "compute_cap" is not a valid field to query.\n\n')).toBe("compute_cap");
    expect(parseRefusedField("No devices were found")).toBeNull();
  });
});

describe("processes", () => {
  test("parseComputeApps reads every capture's processes", () => {
    expect(parseComputeApps(read("h100-8x", "query-compute-apps.csv")).apps.slice(0, 3)).toEqual([
      { gpuUuid: "GPU-00c363ff-56b0-69a1-af41-2a23ea2bb062", pid: 48211, usedMemoryMiB: 73868 },
      { gpuUuid: "GPU-00c363ff-56b0-69a1-af41-2a23ea2bb062", pid: 48590, usedMemoryMiB: 504 },
      { gpuUuid: "GPU-98af700c-b3f2-0d9a-c2e2-8577d456aba0", pid: 48212, usedMemoryMiB: 74370 },
    ]);
    const counts = ["h100-8x", "rtx4090-2x", "a100-mig", "v100-4x-470", "t4", "h100-7x", "h100-8x-reset-required"].map(
      (c) => parseComputeApps(read(c, "query-compute-apps.csv")).apps.length,
    );
    expect(counts).toEqual([9, 1, 3, 4, 2, 8, 8]);
    expect(parseComputeApps(read("h100-8x-fell-off-bus", "query-compute-apps.csv")).unreachable).toHaveLength(1);
    expect(parseComputeApps("")).toEqual({ apps: [], unreachable: [] });
  });

  test("[N/A] memory (Windows WDDM) is null; a line that is not a process fails", () => {
    expect(parseComputeApps("GPU-a, 4242, [N/A]\n").apps).toEqual([{ gpuUuid: "GPU-a", pid: 4242, usedMemoryMiB: null }]);
    expect(() => parseComputeApps("GPU-a, 4242, 12 MiB\n")).toThrow('used_memory is "12 MiB"');
    expect(() => parseComputeApps("GPU-a, python, 12\n")).toThrow("failed to parse nvidia-smi --query-compute-apps");
  });

  const owners = (pid: number) => ({ name: pid === 51002 ? "python3" : null, user: pid === 51002 ? "alice" : null, container: null });

  test("attachProcesses joins by GPU UUID; a GPU without processes gets none", () => {
    const gpus = attachProcesses(query("a100-mig").gpus, parseComputeApps(read("a100-mig", "query-compute-apps.csv")).apps, owners);
    expect(gpus.map((g) => g.processes)).toEqual([
      [
        { pid: 51002, name: "python3", user: "alice", container: null, usedMemoryMiB: 20116, type: "compute" },
        { pid: 51377, name: null, user: null, container: null, usedMemoryMiB: 4732, type: "compute" },
      ],
      [{ pid: 52210, name: null, user: null, container: null, usedMemoryMiB: 30540, type: "compute" }],
    ]);
    const rtx = attachProcesses(query("rtx4090-2x").gpus, parseComputeApps(read("rtx4090-2x", "query-compute-apps.csv")).apps, owners);
    expect(rtx.map((g) => g.processes.map((p) => [p.pid, p.usedMemoryMiB]))).toEqual([[[3120, 22376]], []]);
  });

  test("attachProcesses: one process in two MIG instances of a GPU is one entry with the memory summed", () => {
    const [gpu] = query("a100-mig").gpus;
    const apps = [
      { gpuUuid: gpu!.uuid, pid: 51002, usedMemoryMiB: 20116 },
      { gpuUuid: gpu!.uuid, pid: 51002, usedMemoryMiB: 4732 },
      { gpuUuid: "GPU-gone", pid: 7, usedMemoryMiB: 1 },
    ];
    expect(attachProcesses([gpu!], apps, owners)[0]!.processes).toEqual([
      { pid: 51002, name: "python3", user: "alice", container: null, usedMemoryMiB: 24848, type: "compute" },
    ]);
  });
});
