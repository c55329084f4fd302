// Disk read and write throughput in bytes per second, from /proc/diskstats.
import { join } from "node:path";
import { counter, parseError, readKernelFile, type Collector } from "./collector.ts";
import { bytesPerSecond, type CounterReading, type DeviceCounters } from "./rates.ts";

/** diskstats counts in 512-byte sectors whatever the device's real sector size (see Documentation/admin-guide/iostats.rst). */
const SECTOR_BYTES = 512;

/** Partitions repeat their disk's traffic; the pattern is node_exporter's default device exclude. */
const PARTITION = /^((h|s|v|xv)d[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+|nbd\d+|rbd\d+|zd\d+)p\d+)$/;

/**
 * Memory-backed devices move no disk bytes, and device-mapper and md stack on top of disks that
 * are counted already: LVM or dm-crypt on sda would otherwise show every byte twice.
 */
const NOT_A_DISK = /^(loop|ram|zram|fd|dm-|md)\d+$/;

export function isWholeDisk(name: string): boolean {
  return !PARTITION.test(name) && !NOT_A_DISK.test(name);
}

/** Every device's cumulative [bytes read, bytes written]. */
export function parseDiskstats(text: string): Map<string, [number, number]> {
  const devices = new Map<string, [number, number]>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const fields = line.trim().split(/\s+/);
    // major minor name, then 11 counters on every kernel since 2.6 (later ones append more).
    const name = fields[2];
    if (name === undefined || fields.length < 14) {
      throw parseError("/proc/diskstats", `line ${i + 1} has ${fields.length} fields, expected at least 14`);
    }
    const sectorsRead = counter("/proc/diskstats", fields[5], `${name} sectors read`);
    const sectorsWritten = counter("/proc/diskstats", fields[9], `${name} sectors written`);
    devices.set(name, [sectorsRead * SECTOR_BYTES, sectorsWritten * SECTOR_BYTES]);
  });
  return devices;
}

export function wholeDisks(devices: ReadonlyMap<string, [number, number]>): DeviceCounters {
  return new Map([...devices].filter(([name]) => isWholeDisk(name)));
}

export function diskioCollector(): Collector {
  let prev: CounterReading | null = null;
  return {
    name: "diskio",
    collect({ procRoot, now }) {
      const text = readKernelFile(join(procRoot, "diskstats"));
      if (text === null) {
        prev = null;
        return { diskReadBps: null, diskWriteBps: null };
      }
      const cur = { atMs: now(), counters: wholeDisks(parseDiskstats(text)) };
      const rates = prev === null ? null : bytesPerSecond(prev, cur);
      prev = cur;
      return { diskReadBps: rates?.[0] ?? null, diskWriteBps: rates?.[1] ?? null };
    },
  };
}
