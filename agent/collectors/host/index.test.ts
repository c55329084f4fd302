// Checks the whole host collection on the fixture tree and on this machine's own /proc and /sys.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { HostSchema } from "../../../src/protocol/sample.ts";
import { createHostCollector } from "./index.ts";

const FIXTURES = join(import.meta.dir, "../../../test/fixtures");
const PROC = join(FIXTURES, "proc");
const SYS = join(FIXTURES, "sys");
const NAMES = ["hostname", "cpu", "memory", "loadavg", "uptime", "disks", "diskio", "network"];

const tmp = mkdtempSync(join(tmpdir(), "vigil-host-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("createHostCollector on the fixture tree", () => {
  test("two collections give well-formed vitals: rates appear on the second", async () => {
    let now = 10_000;
    const host = createHostCollector({ procRoot: PROC, sysRoot: SYS, now: () => now });

    const first = await host.collect();
    expect(Value.Check(HostSchema, first.vitals)).toBe(true);
    expect(first.timings.map((t) => t.name)).toEqual(NAMES);
    expect(first.timings.every((t) => t.ok && t.ms >= 0 && t.error === undefined)).toBe(true);
    expect(first.vitals).toMatchObject({
      hostname: "vm",
      cpuPercent: null,
      load: [0.23, 0.16, 0.08],
      memoryTotal: 24684092 * 1024,
      memoryUsed: (24684092 - 24297068) * 1024,
      swapTotal: 0,
      swapUsed: 0,
      uptimeSeconds: 309.51,
      diskReadBps: null,
      diskWriteBps: null,
      netRxBps: null,
      netTxBps: null,
    });
    expect(first.vitals.disks.map((d) => d.mount)).toEqual(["/"]);

    now += 1000;
    const second = await host.collect();
    expect(Value.Check(HostSchema, second.vitals)).toBe(true);
    // The fixture files do not change between reads: no CPU tick passed, and no byte moved.
    expect(second.vitals).toMatchObject({ cpuPercent: null, diskReadBps: 0, diskWriteBps: 0, netRxBps: 0, netTxBps: 0 });
  });

  test("rates come from the counters that changed between collections", async () => {
    const procRoot = join(tmp, "changing");
    cpSync(PROC, procRoot, { recursive: true });
    let now = 0;
    const host = createHostCollector({ procRoot, sysRoot: SYS, now: () => now });
    await host.collect();
    for (const [file, later] of [
      ["stat", "stat-later"],
      ["diskstats", "diskstats-later"],
      ["net/dev", "net-dev-later"],
    ]) {
      cpSync(join(PROC, "variants", later!), join(procRoot, file!));
    }
    now = 2000;
    const { vitals } = await host.collect();
    expect(vitals.cpuPercent).toBeCloseTo((245 / 537) * 100, 10);
    expect(vitals.diskReadBps).toBe((872 * 512) / 2);
    expect(vitals.diskWriteBps).toBe((244624 * 512) / 2);
    expect(vitals.netRxBps).toBe(629063 / 2);
    expect(vitals.netTxBps).toBe(3401 / 2);
  });

  test("a collector that fails leaves its fields null and the others intact", async () => {
    const procRoot = join(tmp, "broken");
    cpSync(PROC, procRoot, { recursive: true });
    writeFileSync(join(procRoot, "meminfo"), "this is not meminfo\n");
    const { vitals, timings } = await createHostCollector({ procRoot, sysRoot: SYS }).collect();
    expect(Value.Check(HostSchema, vitals)).toBe(true);
    expect(vitals).toMatchObject({ memoryUsed: null, memoryTotal: null, swapUsed: null, swapTotal: null });
    expect(vitals).toMatchObject({ hostname: "vm", uptimeSeconds: 309.51, load: [0.23, 0.16, 0.08] });
    expect(timings.find((t) => t.name === "memory")).toMatchObject({
      ok: false,
      error: "failed to parse /proc/meminfo: no MemTotal line",
    });
    expect(timings.filter((t) => !t.ok)).toHaveLength(1);
  });

  test("an empty proc tree is nothing to report, not a failure", async () => {
    const { vitals, timings } = await createHostCollector({ procRoot: join(tmp, "empty"), sysRoot: join(tmp, "empty") }).collect();
    expect(Value.Check(HostSchema, vitals)).toBe(true);
    expect(timings.every((t) => t.ok)).toBe(true);
    expect(vitals).toEqual({
      hostname: hostname(),
      cpuPercent: null,
      load: null,
      memoryUsed: null,
      memoryTotal: null,
      swapUsed: null,
      swapTotal: null,
      uptimeSeconds: null,
      disks: [],
      diskReadBps: null,
      diskWriteBps: null,
      netRxBps: null,
      netTxBps: null,
    });
  });
});

describe.skipIf(process.platform !== "linux")("createHostCollector on this machine's /proc and /sys", () => {
  test("reports sane values", async () => {
    const host = createHostCollector({});
    const first = await host.collect();
    await Bun.sleep(200);
    const { vitals, timings } = await host.collect();

    expect(first.vitals.cpuPercent).toBeNull();
    expect(timings.filter((t) => !t.ok)).toEqual([]);
    expect(Value.Check(HostSchema, vitals)).toBe(true);
    expect(vitals.hostname).toBe(hostname());
    expect(vitals.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(vitals.cpuPercent).toBeLessThanOrEqual(100);
    expect(vitals.memoryTotal).toBeGreaterThan(64 * 1024 * 1024);
    expect(vitals.memoryUsed).toBeGreaterThan(0);
    expect(vitals.memoryUsed).toBeLessThanOrEqual(vitals.memoryTotal ?? 0);
    expect(vitals.swapUsed).toBeLessThanOrEqual(vitals.swapTotal ?? 0);
    expect(vitals.uptimeSeconds).toBeGreaterThan(0);
    for (const load of vitals.load ?? []) expect(load).toBeGreaterThanOrEqual(0);
    for (const disk of vitals.disks) {
      expect(disk.mount.startsWith("/")).toBe(true);
      expect(disk.used).toBeLessThanOrEqual(disk.total);
    }
    for (const rate of [vitals.diskReadBps, vitals.diskWriteBps, vitals.netRxBps, vitals.netTxBps]) {
      if (rate !== null) expect(rate).toBeGreaterThanOrEqual(0);
    }
  });
});
