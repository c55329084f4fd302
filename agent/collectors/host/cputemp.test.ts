// Checks the CPU temperature against hand-made Intel and AMD hwmon trees and the sensor choice per chip.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chipTemperature, cpuTemperature, cputempCollector, isCpuChip, parseMilliCelsius, readCpuChips } from "./cputemp.ts";

const SYS = join(import.meta.dir, "../../../test/fixtures/sys");
const CORETEMP = join(SYS, "variants/hwmon-coretemp");
const K10TEMP = join(SYS, "variants/hwmon-k10temp");
const ctx = (sysRoot: string) => ({ procRoot: "/nonexistent", sysRoot, now: () => 0 });

const tmp = mkdtempSync(join(tmpdir(), "vigil-hwmon-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a hwmon chip directory: name plus tempN_input / tempN_label files. */
function writeChip(dir: string, name: string, sensors: Record<number, [string | null, string]>) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "name"), `${name}\n`);
  for (const [index, [label, input]] of Object.entries(sensors)) {
    writeFileSync(join(dir, `temp${index}_input`), `${input}\n`);
    if (label !== null) writeFileSync(join(dir, `temp${index}_label`), `${label}\n`);
  }
}

describe("readCpuChips", () => {
  test("reads both sockets' coretemp and skips the ACPI zone and the NVMe drive", () => {
    const chips = readCpuChips(CORETEMP);
    expect(chips.map((c) => c.name)).toEqual(["coretemp", "coretemp"]);
    expect(chips[1]?.sensors).toEqual([
      { label: "Package id 1", milliCelsius: 64000 },
      { label: "Core 0", milliCelsius: 61000 },
      { label: "Core 1", milliCelsius: 64000 },
      { label: "Core 4", milliCelsius: 62000 },
      { label: "Core 5", milliCelsius: 59000 },
    ]);
  });

  test("reads k10temp's Tctl and chiplet sensors", () => {
    const chips = readCpuChips(K10TEMP);
    expect(chips).toEqual([
      {
        name: "k10temp",
        sensors: [
          { label: "Tctl", milliCelsius: 62125 },
          { label: "Tccd1", milliCelsius: 55250 },
          { label: "Tccd2", milliCelsius: 57000 },
          { label: "Tccd3", milliCelsius: 53750 },
          { label: "Tccd4", milliCelsius: 56500 },
        ],
      },
    ]);
  });

  test("finds the sensors on the parent device as kernels before 3.15 keep them", () => {
    const root = join(tmp, "old-kernel");
    mkdirSync(join(root, "class/hwmon/hwmon0"), { recursive: true });
    writeChip(join(root, "class/hwmon/hwmon0/device"), "coretemp", { 2: ["Core 0", "48000"], 3: ["Core 1", "51000"] });
    expect(readCpuChips(root)).toEqual([
      {
        name: "coretemp",
        sensors: [
          { label: "Core 0", milliCelsius: 48000 },
          { label: "Core 1", milliCelsius: 51000 },
        ],
      },
    ]);
  });

  test("no hwmon class is no chip", () => {
    expect(readCpuChips(join(tmp, "nothing"))).toEqual([]);
    expect(readCpuChips(SYS)).toEqual([]);
  });
});

describe("chipTemperature and cpuTemperature", () => {
  test("Intel: the package sensor of the hotter socket", () => {
    expect(cpuTemperature(readCpuChips(CORETEMP))).toBe(64);
  });

  test("AMD Zen 3: Tctl, in k10temp's eighth-degree steps", () => {
    expect(cpuTemperature(readCpuChips(K10TEMP))).toBe(62.125);
  });

  test("Threadripper: Tdie wins over Tctl, which carries a 27 °C fan-control offset", () => {
    const chip = {
      name: "k10temp",
      sensors: [
        { label: "Tctl", milliCelsius: 72000 },
        { label: "Tdie", milliCelsius: 45000 },
        { label: "Tccd1", milliCelsius: 43500 },
      ],
    };
    expect(chipTemperature(chip)).toBe(45);
  });

  test("a chip without a package or die sensor gives its hottest plausible sensor", () => {
    // Core 2's coretemp has only per-core sensors; a Raspberry Pi's cpu_thermal has one unlabelled sensor.
    expect(
      chipTemperature({
        name: "coretemp",
        sensors: [
          { label: "Core 0", milliCelsius: 41000 },
          { label: "Core 1", milliCelsius: 43000 },
        ],
      }),
    ).toBe(43);
    expect(chipTemperature({ name: "cpu_thermal", sensors: [{ label: null, milliCelsius: 51121 }] })).toBe(51.121);
    expect(chipTemperature({ name: "cpu_thermal", sensors: [{ label: null, milliCelsius: -273150 }] })).toBeNull();
  });

  test("only CPU chips count, however hot the others run", () => {
    for (const name of ["coretemp", "k10temp", "k8temp", "zenpower", "cpu_thermal", "cpu0_thermal", "soc_thermal"]) {
      expect(isCpuChip(name)).toBe(true);
    }
    for (const name of ["acpitz", "nvme", "pch_cannonlake", "amdgpu", "mlx5", "drivetemp", "nct6798", "gpu_thermal"]) {
      expect(isCpuChip(name)).toBe(false);
    }
    expect(cpuTemperature([{ name: "nvme", sensors: [{ label: "Composite", milliCelsius: 71850 }] }])).toBeNull();
    expect(cpuTemperature([])).toBeNull();
  });

  test("parseMilliCelsius accepts integers, negative ones included, and nothing else", () => {
    expect(parseMilliCelsius("45000\n")).toBe(45000);
    expect(parseMilliCelsius("-5000\n")).toBe(-5000);
    expect(parseMilliCelsius("")).toBeNull();
    expect(parseMilliCelsius("45.0")).toBeNull();
  });
});

describe("cputempCollector", () => {
  test("reports °C from the fixture trees, and null where hwmon has no CPU chip", () => {
    expect(cputempCollector().collect(ctx(CORETEMP))).toEqual({ cpuTemperature: 64 });
    expect(cputempCollector().collect(ctx(K10TEMP))).toEqual({ cpuTemperature: 62.125 });
    expect(cputempCollector().collect(ctx(SYS))).toEqual({ cpuTemperature: null });
    expect(cputempCollector().collect(ctx("/nonexistent"))).toEqual({ cpuTemperature: null });
  });

  test("an unreadable sensor is skipped while another one reads", () => {
    const root = join(tmp, "one-bad");
    writeChip(join(root, "class/hwmon/hwmon0"), "coretemp", { 1: ["Package id 0", "garbage"], 2: ["Core 0", "50000"] });
    expect(cputempCollector().collect(ctx(root))).toEqual({ cpuTemperature: 50 });
  });

  test("when no CPU sensor reads at all, the failure names the file", () => {
    const root = join(tmp, "all-bad");
    writeChip(join(root, "class/hwmon/hwmon0"), "k10temp", { 1: ["Tctl", "n/a"] });
    expect(() => cputempCollector().collect(ctx(root))).toThrow(
      `failed to parse ${join(root, "class/hwmon/hwmon0/temp1_input")}: "n/a" is not millidegrees`,
    );
  });
});
