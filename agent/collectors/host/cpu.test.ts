// Checks CPU percentages, total and per core, against two real /proc/stat readings and the older column layout.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuCollector, cpuPercent, cpuPercentPerCore, parseStat, parseStatPerCpu } from "./cpu.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const fixture = (path: string) => readFileSync(join(PROC, path), "utf8");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

describe("parseStat", () => {
  test("reads the aggregate line, not a per-CPU one", () => {
    // cpu  3641 0 2492 54285 137 0 41 606 0 0: idle and iowait are the idle ticks; guest columns are not added.
    expect(parseStat(fixture("stat"))).toEqual({ total: 3641 + 2492 + 54285 + 137 + 41 + 606, busy: 3641 + 2492 + 41 + 606 });
  });

  test("accepts the 8 columns of older kernels on a 16-CPU machine", () => {
    expect(parseStat(fixture("variants/stat-16cpu-8-columns"))).toEqual({ total: 134994386, busy: 27063770 });
  });

  test("names the file and the problem when the text is not /proc/stat", () => {
    expect(() => parseStat("intr 1 2 3\nctxt 4\n")).toThrow("failed to parse /proc/stat: no aggregate cpu line");
    expect(() => parseStat("cpu  1 2 x 4\n")).toThrow('failed to parse /proc/stat: cpu system is "x"');
    expect(() => parseStat("cpu  1 2\n")).toThrow("failed to parse /proc/stat: cpu line has 2 values, expected at least 4");
  });
});

describe("parseStatPerCpu", () => {
  test("reads every cpuN line by name, not the aggregate", () => {
    // cpu0 1472 0 1104 27677 17 0 10 325 0 0 and cpu1 2168 0 1388 26608 120 0 31 281 0 0
    expect(parseStatPerCpu(fixture("stat"))).toEqual(
      new Map([
        ["cpu0", { total: 1472 + 1104 + 27677 + 17 + 10 + 325, busy: 1472 + 1104 + 10 + 325 }],
        ["cpu1", { total: 2168 + 1388 + 26608 + 120 + 31 + 281, busy: 2168 + 1388 + 31 + 281 }],
      ]),
    );
  });

  test("reads 16 CPUs in the 8-column layout", () => {
    const cpus = parseStatPerCpu(fixture("variants/stat-16cpu-8-columns"));
    expect([...cpus.keys()]).toEqual(Array.from({ length: 16 }, (_, i) => `cpu${i}`));
    // cpu15 1794256 532 115904 8066704 46972 158 19938 0
    expect(cpus.get("cpu15")).toEqual({
      total: 1794256 + 532 + 115904 + 8066704 + 46972 + 158 + 19938,
      busy: 1794256 + 532 + 115904 + 158 + 19938,
    });
  });

  test("keeps the names of the CPUs that are online when one is not", () => {
    const cpus = parseStatPerCpu("cpu  4 0 4 4\ncpu0 2 0 2 2\ncpu2 2 0 2 2\nintr 1\n");
    expect([...cpus.keys()]).toEqual(["cpu0", "cpu2"]);
  });

  test("names the CPU whose line is malformed", () => {
    expect(() => parseStatPerCpu("cpu  1 2 3 4\ncpu0 1 2 3\n")).toThrow(
      "failed to parse /proc/stat: cpu0 line has 3 values, expected at least 4",
    );
    expect(() => parseStatPerCpu("cpu  1 2 3 4\ncpu3 1 2 y 4\n")).toThrow('failed to parse /proc/stat: cpu3 system is "y"');
  });
});

describe("cpuPercent", () => {
  test("two real readings give the busy share of the elapsed ticks", () => {
    const before = parseStat(fixture("stat"));
    const after = parseStat(fixture("variants/stat-later"));
    // total 61202 -> 61739 (537 ticks), idle+iowait 54422 -> 54714 (292 ticks): 245 busy.
    expect(cpuPercent(before, after)).toBeCloseTo((245 / 537) * 100, 10);
  });

  test("is null when no tick passed or the counters went backwards", () => {
    const reading = parseStat(fixture("stat"));
    expect(cpuPercent(reading, reading)).toBeNull();
    expect(cpuPercent(parseStat(fixture("variants/stat-later")), reading)).toBeNull();
  });

  test("stays within 0-100 when iowait decreases", () => {
    expect(cpuPercent({ busy: 100, total: 1000 }, { busy: 120, total: 1010 })).toBe(100);
  });
});

describe("cpuPercentPerCore", () => {
  test("two real readings give each core's busy share, in the kernel's order", () => {
    const percents = cpuPercentPerCore(parseStatPerCpu(fixture("stat")), parseStatPerCpu(fixture("variants/stat-later")));
    // cpu0: 267 ticks, 200 busy (user 1472 -> 1672); cpu1: 267 ticks, 44 busy.
    expect(percents).toHaveLength(2);
    expect(percents?.[0]).toBeCloseTo((200 / 267) * 100, 10);
    expect(percents?.[1]).toBeCloseTo((44 / 267) * 100, 10);
  });

  test("is null for the interval in which a CPU came online or no tick passed", () => {
    const two = parseStatPerCpu(fixture("stat"));
    const three = new Map([...parseStatPerCpu(fixture("variants/stat-later")), ["cpu2", { busy: 1, total: 2 }]]);
    expect(cpuPercentPerCore(two, three)).toBeNull();
    expect(cpuPercentPerCore(two, two)).toBeNull();
    expect(cpuPercentPerCore(two, new Map())).toBeNull();
  });

  test("a CPU that went offline drops out, the others keep their values", () => {
    const later = parseStatPerCpu(fixture("variants/stat-later"));
    later.delete("cpu0");
    const percents = cpuPercentPerCore(parseStatPerCpu(fixture("stat")), later);
    expect(percents).toHaveLength(1);
    expect(percents?.[0]).toBeCloseTo((44 / 267) * 100, 10);
  });
});

describe("cpuCollector", () => {
  test("the first read has nothing to compare with", () => {
    expect(cpuCollector().collect(ctx(PROC))).toEqual({ cpuPercent: null, cpuPerCore: null });
  });

  test("the second read gives the total and one value per core", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-cpu-"));
    try {
      mkdirSync(join(dir, "proc"));
      copyFileSync(join(PROC, "stat"), join(dir, "proc", "stat"));
      const collector = cpuCollector();
      collector.collect(ctx(join(dir, "proc")));
      copyFileSync(join(PROC, "variants", "stat-later"), join(dir, "proc", "stat"));
      const { cpuPercent: total, cpuPerCore } = collector.collect(ctx(join(dir, "proc")));
      expect(total).toBeCloseTo((245 / 537) * 100, 10);
      expect(cpuPerCore?.map((p) => Math.round(p * 1000) / 1000)).toEqual([74.906, 16.479]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing /proc/stat is null, not 0", () => {
    const collector = cpuCollector();
    collector.collect(ctx("/nonexistent"));
    expect(collector.collect(ctx("/nonexistent"))).toEqual({ cpuPercent: null, cpuPerCore: null });
  });
});
