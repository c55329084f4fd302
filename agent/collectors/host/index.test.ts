// Checks the whole host collection on the fixture tree and on this machine's own /proc and /sys.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, release, tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { HostSchema } from "../../../src/protocol/sample.ts";
import { createHostCollector } from "./index.ts";

const FIXTURES = join(import.meta.dir, "../../../test/fixtures");
const PROC = join(FIXTURES, "proc");
const SYS = join(FIXTURES, "sys");
const NAMES = ["hostname", "cpu", "memory", "loadavg", "uptime", "disks", "diskio", "network", "cputemp", "sysinfo", "docker"];
// `simulated` is for `vigil simulate` alone: a real agent leaves it out.
const HOST_FIELDS = Object.keys(HostSchema.properties)
  .filter((k) => k !== "simulated")
  .sort();

/** Every field of the schema, the optional ones included: Vigil's own agent always sends them all (but `simulated`). */
function expectEveryField(vitals: object) {
  expect(Object.keys(vitals).sort()).toEqual(HOST_FIELDS);
  expect(Value.Check(HostSchema, vitals)).toBe(true);
}

const tmp = mkdtempSync(join(tmpdir(), "vigil-host-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("createHostCollector on the fixture tree", () => {
  test("two collections give well-formed vitals: rates appear on the second", async () => {
    let now = 10_000;
    const host = createHostCollector({ procRoot: PROC, sysRoot: SYS, now: () => now });

    const first = await host.collect();
    expectEveryField(first.vitals);
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
      cpuPerCore: null,
      // No hwmon in the fixture VM's /sys, and no test/fixtures/var/lib/docker.
      cpuTemperature: null,
      cpuModel: "Intel(R) Xeon(R) Processor",
      cpuCores: 2,
      os: "Debian GNU/Linux 12 (bookworm)",
      kernel: "6.18.44-fc-v657",
      dockerDataBytes: null,
    });
    expect(first.vitals.disks.map((d) => d.mount)).toEqual(["/"]);

    now += 1000;
    const second = await host.collect();
    expectEveryField(second.vitals);
    // The fixture files do not change between reads: no CPU tick passed, and no byte moved.
    expect(second.vitals).toMatchObject({ cpuPercent: null, cpuPerCore: null, diskReadBps: 0, diskWriteBps: 0, netRxBps: 0, netTxBps: 0 });
    host.close();
  });

  test("the CPU temperature comes from the sys root's hwmon", async () => {
    for (const [tree, celsius] of [
      ["hwmon-coretemp", 64],
      ["hwmon-k10temp", 62.125],
    ] as const) {
      const host = createHostCollector({ procRoot: PROC, sysRoot: join(SYS, "variants", tree) });
      const { vitals } = await host.collect();
      expectEveryField(vitals);
      expect(vitals.cpuTemperature).toBe(celsius);
      host.close();
    }
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
    host.close();
    expect(vitals.cpuPercent).toBeCloseTo((245 / 537) * 100, 10);
    expect(vitals.cpuPerCore?.map((p) => Math.round(p * 1000) / 1000)).toEqual([74.906, 16.479]);
    expect(vitals.diskReadBps).toBe((872 * 512) / 2);
    expect(vitals.diskWriteBps).toBe((244624 * 512) / 2);
    expect(vitals.netRxBps).toBe(629063 / 2);
    expect(vitals.netTxBps).toBe(3401 / 2);
  });

  test("a collector that fails leaves its fields null and the others intact", async () => {
    const procRoot = join(tmp, "broken");
    cpSync(PROC, procRoot, { recursive: true });
    writeFileSync(join(procRoot, "meminfo"), "this is not meminfo\n");
    const host = createHostCollector({ procRoot, sysRoot: SYS });
    const { vitals, timings } = await host.collect();
    host.close();
    expectEveryField(vitals);
    expect(vitals).toMatchObject({ memoryUsed: null, memoryTotal: null, swapUsed: null, swapTotal: null });
    expect(vitals).toMatchObject({ cpuCores: 2, kernel: "6.18.44-fc-v657" });
    expect(vitals).toMatchObject({ hostname: "vm", uptimeSeconds: 309.51, load: [0.23, 0.16, 0.08] });
    expect(timings.find((t) => t.name === "memory")).toMatchObject({
      ok: false,
      error: "failed to parse /proc/meminfo: no MemTotal line",
    });
    expect(timings.filter((t) => !t.ok)).toHaveLength(1);
  });

  test("a collector that fails in the new set nulls only its own fields too", async () => {
    const procRoot = join(tmp, "broken-cpuinfo", "proc");
    cpSync(PROC, procRoot, { recursive: true });
    rmSync(join(procRoot, "cpuinfo"));
    mkdirSync(join(procRoot, "cpuinfo")); // reading it fails with EISDIR
    const host = createHostCollector({ procRoot, sysRoot: SYS });
    const { vitals, timings } = await host.collect();
    host.close();
    expectEveryField(vitals);
    expect(vitals).toMatchObject({ os: null, kernel: null, cpuModel: null, cpuCores: null, uptimeSeconds: 309.51 });
    expect(timings.filter((t) => !t.ok)).toEqual([
      { name: "sysinfo", ms: expect.any(Number), ok: false, error: `failed to read ${join(procRoot, "cpuinfo")}: EISDIR` },
    ]);
  });

  test("the Docker directory is measured in the background and close() stops it", async () => {
    const dockerDir = join(tmp, "docker");
    mkdirSync(join(dockerDir, "overlay2"), { recursive: true });
    const written = [64 * 1024, 1024 * 1024].reduce((sum, size, i) => {
      writeFileSync(join(dockerDir, "overlay2", `blob-${i}`), crypto.getRandomValues(new Uint8Array(size)));
      return sum + size;
    }, 0);
    const host = createHostCollector({ procRoot: PROC, sysRoot: SYS, dockerDir, dockerIntervalMs: 50 });
    try {
      const first = await host.collect();
      // The first collection starts the measurement but does not wait for it.
      expect(first.vitals.dockerDataBytes).toBeNull();
      expect(first.timings.find((t) => t.name === "docker")).toMatchObject({ ok: true });
      let latest = first;
      const deadline = performance.now() + 5000;
      while (latest.vitals.dockerDataBytes === null && performance.now() < deadline) {
        await Bun.sleep(10);
        latest = await host.collect();
      }
      expectEveryField(latest.vitals);
      expect(latest.vitals.dockerDataBytes).toBeGreaterThanOrEqual(written);
    } finally {
      host.close();
    }
  });

  test("an empty proc tree is nothing to report, not a failure", async () => {
    const host = createHostCollector({ procRoot: join(tmp, "empty"), sysRoot: join(tmp, "empty") });
    const { vitals, timings } = await host.collect();
    host.close();
    expectEveryField(vitals);
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
      cpuPerCore: null,
      cpuTemperature: null,
      cpuModel: null,
      cpuCores: null,
      os: null,
      kernel: null,
      dockerDataBytes: null,
    });
  });
});

describe.skipIf(process.platform !== "linux")("createHostCollector on this machine's /proc and /sys", () => {
  test("reports sane values", async () => {
    const host = createHostCollector({});
    const first = await host.collect();
    await Bun.sleep(200);
    const { vitals, timings } = await host.collect();
    host.close();

    expect(first.vitals.cpuPercent).toBeNull();
    expect(first.vitals.cpuPerCore).toBeNull();
    expect(timings.filter((t) => !t.ok)).toEqual([]);
    expectEveryField(vitals);
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
    expect(vitals.cpuCores).toBe(cpus().length);
    expect(vitals.cpuPerCore).toHaveLength(vitals.cpuCores ?? -1);
    for (const percent of vitals.cpuPerCore ?? []) {
      expect(percent).toBeGreaterThanOrEqual(0);
      expect(percent).toBeLessThanOrEqual(100);
    }
    expect(vitals.kernel).toBe(release());
    expect(vitals.cpuModel).toBeString();
    expect(vitals.os).toBeString();
    // Null on a machine without hwmon CPU sensors (a VM); otherwise a CPU's range.
    if (vitals.cpuTemperature !== null) {
      expect(vitals.cpuTemperature).toBeGreaterThan(0);
      expect(vitals.cpuTemperature).toBeLessThan(110);
    }
    if (vitals.dockerDataBytes !== null) expect(vitals.dockerDataBytes).toBeGreaterThanOrEqual(0);
  });
});
