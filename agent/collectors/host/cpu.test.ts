// Checks CPU percentage against two real /proc/stat readings and the older column layout.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cpuCollector, cpuPercent, parseStat } from "./cpu.ts";

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

describe("cpuCollector", () => {
  test("the first read has nothing to compare with", () => {
    expect(cpuCollector().collect(ctx(PROC))).toEqual({ cpuPercent: null });
  });

  test("a missing /proc/stat is null, not 0", () => {
    const collector = cpuCollector();
    collector.collect(ctx("/nonexistent"));
    expect(collector.collect(ctx("/nonexistent"))).toEqual({ cpuPercent: null });
  });
});
