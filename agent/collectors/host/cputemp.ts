// CPU temperature in °C: the hottest CPU package or die sensor hwmon exposes under /sys/class/hwmon.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readKernelFile, type Collector } from "./collector.ts";

export type HwmonSensor = { readonly label: string | null; readonly milliCelsius: number };
export type HwmonChip = { readonly name: string; readonly sensors: readonly HwmonSensor[] };

/**
 * hwmon drivers whose sensors are the CPU's: Intel (coretemp), AMD (k8temp, k10temp, and the
 * out-of-tree zenpower), VIA, and the thermal zones of ARM SoCs ("cpu_thermal", "cpu0_thermal",
 * "soc_thermal"). Boards, disks and NICs report their own chips (acpitz, nvme, mlx5), which may run
 * hotter than the CPU and are not what the field means.
 */
const CPU_CHIP = /^(coretemp|k8temp|k10temp|zenpower|via_cputemp|\w*cpu\w*_thermal|soc_thermal)$/;

/**
 * The sensors that speak for the whole chip, best first. Intel: one "Package id N" per socket,
 * beside one sensor per core. AMD: Tctl is the fan-control value, which on some Threadripper and
 * Ryzen parts is the die temperature plus an offset of up to 27 °C; k10temp and zenpower then add
 * Tdie, the real die temperature, so Tdie wins where both exist (Documentation/hwmon/k10temp.rst).
 */
const CHIP_SENSORS = [/^Package id \d+$/, /^Tdie$/, /^Tctl$/];

/** Outside this range a sensor is not reporting (unplugged or uninitialised), not a CPU temperature. */
const PLAUSIBLE_MILLI_CELSIUS = { min: -40_000, max: 150_000 };

export function isCpuChip(name: string): boolean {
  return CPU_CHIP.test(name);
}

/** The chip's package or die sensor; a chip without one (Core 2's coretemp, ARM thermal zones) gives its hottest sensor. */
export function chipTemperature(chip: HwmonChip): number | null {
  const plausible = chip.sensors.filter(
    (s) => s.milliCelsius >= PLAUSIBLE_MILLI_CELSIUS.min && s.milliCelsius <= PLAUSIBLE_MILLI_CELSIUS.max,
  );
  const labelled = (pattern: RegExp) => plausible.filter((s) => s.label !== null && pattern.test(s.label));
  const chosen = CHIP_SENSORS.map(labelled).find((sensors) => sensors.length > 0) ?? plausible;
  if (chosen.length === 0) return null;
  return Math.max(...chosen.map((s) => s.milliCelsius)) / 1000;
}

/** The hottest CPU chip, so a two-socket server reports its hotter socket; null when hwmon has no CPU sensor. */
export function cpuTemperature(chips: readonly HwmonChip[]): number | null {
  const temperatures = chips
    .filter((chip) => isCpuChip(chip.name))
    .map(chipTemperature)
    .filter((t): t is number => t !== null);
  return temperatures.length === 0 ? null : Math.max(...temperatures);
}

export function parseMilliCelsius(text: string): number | null {
  const value = text.trim();
  return /^-?\d+$/.test(value) ? Number(value) : null;
}

/** The file names in a directory, or none when it does not exist: no hwmon is nothing to report. */
function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new Error(`failed to list ${path}: ${code ?? (err as Error).message}`);
  }
}

/**
 * Reads the CPU chips under <sysRoot>/class/hwmon. A sensor the driver cannot read right now
 * (ENODATA, EAGAIN or EIO from an idle or absent core) is left out rather than failing the rest;
 * only when no CPU sensor at all could be read does the first such error come back, via `errors`.
 */
export function readCpuChips(sysRoot: string, errors: Error[] = []): HwmonChip[] {
  const classDir = join(sysRoot, "class", "hwmon");
  const chips: HwmonChip[] = [];
  const byNumber = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
  for (const entry of listDir(classDir).sort(byNumber)) {
    // Kernels before 3.15 (CentOS 7's 3.10 among them) keep name and sensors on the parent device.
    let dir = join(classDir, entry);
    let name = readKernelFile(join(dir, "name"));
    if (name === null) {
      dir = join(dir, "device");
      name = readKernelFile(join(dir, "name"));
    }
    if (name === null || !isCpuChip(name.trim())) continue;
    const sensors: HwmonSensor[] = [];
    for (const file of listDir(dir).sort(byNumber)) {
      const index = /^temp(\d+)_input$/.exec(file)?.[1];
      if (index === undefined) continue;
      const path = join(dir, file);
      try {
        const text = readKernelFile(path);
        if (text === null) continue; // the chip went away between the listing and the read
        const milliCelsius = parseMilliCelsius(text);
        if (milliCelsius === null) throw new Error(`failed to parse ${path}: ${JSON.stringify(text.trim())} is not millidegrees`);
        const label = readKernelFile(join(dir, `temp${index}_label`));
        sensors.push({ label: label === null ? null : label.trim(), milliCelsius });
      } catch (err) {
        errors.push(err as Error);
      }
    }
    chips.push({ name: name.trim(), sensors });
  }
  return chips;
}

export function cputempCollector(): Collector {
  return {
    name: "cputemp",
    collect({ sysRoot }) {
      const errors: Error[] = [];
      const temperature = cpuTemperature(readCpuChips(sysRoot, errors));
      if (temperature === null && errors[0] !== undefined) throw errors[0];
      return { cpuTemperature: temperature };
    },
  };
}
