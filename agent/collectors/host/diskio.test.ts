// Checks disk throughput against two real /proc/diskstats readings and the whole-disk filter.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { diskioCollector, isWholeDisk, parseDiskstats, wholeDisks } from "./diskio.ts";
import { bytesPerSecond } from "./rates.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const fixture = (path: string) => readFileSync(join(PROC, path), "utf8");

describe("parseDiskstats", () => {
  test("reads sectors read and written as 512-byte units", () => {
    const devices = parseDiskstats(fixture("diskstats"));
    expect(devices.get("vda")).toEqual([977106 * 512, 1342080 * 512]);
    expect(devices.size).toBe(10);
  });

  test("accepts the 11-counter lines of older kernels", () => {
    expect(parseDiskstats(fixture("variants/diskstats-gpu-server")).get("sr0")).toEqual([0, 0]);
  });

  test("names the file and the line when the text is not diskstats", () => {
    expect(() => parseDiskstats("   8 0 sda 1 2 3\n")).toThrow(
      "failed to parse /proc/diskstats: line 1 has 6 fields, expected at least 14",
    );
    expect(() => parseDiskstats(" 8 0 sda 1 2 ? 4 5 6 7 8 9 10 11\n")).toThrow('failed to parse /proc/diskstats: sda sectors read is "?"');
  });
});

test("whole disks only: no partitions, loop, ram, or stacked dm/md devices", () => {
  const names = [...wholeDisks(parseDiskstats(fixture("variants/diskstats-gpu-server"))).keys()];
  expect(names).toEqual(["sda", "sdb", "nvme0n1", "nvme1n1", "sr0"]);
  expect(isWholeDisk("xvda")).toBe(true);
  expect(isWholeDisk("xvda1")).toBe(false);
  expect(isWholeDisk("mmcblk0")).toBe(true);
  expect(isWholeDisk("mmcblk0p1")).toBe(false);
  expect(isWholeDisk("zram0")).toBe(false);
});

test("two real readings 2 s apart give the exact throughput of vda", () => {
  const before = { atMs: 0, counters: wholeDisks(parseDiskstats(fixture("diskstats"))) };
  const after = { atMs: 2000, counters: wholeDisks(parseDiskstats(fixture("variants/diskstats-later"))) };
  // vda: 977106 -> 977978 sectors read, 1342080 -> 1586704 sectors written.
  expect(bytesPerSecond(before, after)).toEqual([(872 * 512) / 2, (244624 * 512) / 2]);
});

describe("diskioCollector", () => {
  test("the first read is null, the second a rate", () => {
    let now = 0;
    const collector = diskioCollector();
    const ctx = { procRoot: PROC, sysRoot: "/nonexistent", now: () => now };
    expect(collector.collect(ctx)).toEqual({ diskReadBps: null, diskWriteBps: null });
    now = 1000;
    expect(collector.collect(ctx)).toEqual({ diskReadBps: 0, diskWriteBps: 0 });
  });

  test("a missing /proc/diskstats is null, not 0", () => {
    const ctx = { procRoot: "/nonexistent", sysRoot: "/nonexistent", now: () => 0 };
    expect(diskioCollector().collect(ctx)).toEqual({ diskReadBps: null, diskWriteBps: null });
  });
});
