// Checks memory and swap bytes against a real /proc/meminfo and one without MemAvailable.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { memoryCollector, parseMeminfo } from "./memory.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const fixture = (path: string) => readFileSync(join(PROC, path), "utf8");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

describe("parseMeminfo", () => {
  test("reports bytes, with used = MemTotal - MemAvailable", () => {
    expect(parseMeminfo(fixture("meminfo"))).toEqual({
      memoryTotal: 24684092 * 1024,
      memoryUsed: (24684092 - 24297068) * 1024,
      swapTotal: 0,
      swapUsed: 0,
    });
  });

  test("without MemAvailable (kernels before 3.14), available is MemFree + Buffers + Cached", () => {
    const memory = parseMeminfo(fixture("variants/meminfo-no-memavailable"));
    expect(memory.memoryUsed).toBe((24684092 - (24004244 + 9116 + 521472)) * 1024);
  });

  test("swap in use", () => {
    const text = "MemTotal: 1000 kB\nMemAvailable: 400 kB\nSwapTotal: 2048 kB\nSwapFree: 1024 kB\n";
    expect(parseMeminfo(text)).toEqual({ memoryTotal: 1024000, memoryUsed: 614400, swapTotal: 2097152, swapUsed: 1048576 });
  });

  test("a kernel that prints no swap lines has unknown swap", () => {
    expect(parseMeminfo("MemTotal: 1000 kB\nMemAvailable: 400 kB\n")).toMatchObject({ swapTotal: null, swapUsed: null });
  });

  test("names the file and the missing line", () => {
    expect(() => parseMeminfo("not meminfo at all")).toThrow("failed to parse /proc/meminfo: no MemTotal line");
    expect(() => parseMeminfo("MemTotal: 1000 kB\nMemFree: 10 kB\n")).toThrow("failed to parse /proc/meminfo: no Buffers line");
  });
});

test("memoryCollector: a missing /proc/meminfo is null, not 0", () => {
  expect(memoryCollector().collect(ctx("/nonexistent"))).toEqual({
    memoryUsed: null,
    memoryTotal: null,
    swapUsed: null,
    swapTotal: null,
  });
});
