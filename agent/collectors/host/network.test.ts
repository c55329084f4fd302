// Checks network throughput against two real /proc/net/dev readings and the interface filter.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { globMatcher, hostInterfaces, networkCollector, parseNetDev } from "./network.ts";
import { bytesPerSecond } from "./rates.ts";

const FIXTURES = join(import.meta.dir, "../../../test/fixtures");
const PROC = join(FIXTURES, "proc");
const SYS = join(FIXTURES, "sys");
const fixture = (path: string) => readFileSync(join(PROC, path), "utf8");

describe("parseNetDev", () => {
  test("reads bytes received and transmitted per interface", () => {
    const interfaces = parseNetDev(fixture("net/dev"));
    expect([...interfaces.keys()]).toEqual(["lo", "ifb0", "ifb1", "eth0"]);
    expect(interfaces.get("eth0")).toEqual([246225594, 397632]);
  });

  test("reads wide counters printed with no space after the colon", () => {
    expect(parseNetDev(fixture("variants/net-dev-docker-host")).get("eno1")).toEqual([912330012881, 45120339021]);
  });

  test("names the file and the line when the text is not net/dev", () => {
    expect(() => parseNetDev("header\nheader\n  eth0: 1 2 3\n")).toThrow(
      'failed to parse /proc/net/dev: line 3 is not "name: 16 counters": "  eth0: 1 2 3"',
    );
  });
});

describe("hostInterfaces", () => {
  const docker = parseNetDev(fixture("variants/net-dev-docker-host"));

  test("with sysfs, only hardware interfaces count, so bridged container traffic is not counted twice", () => {
    const hardware = new Set(["eno1", "eno2", "ib0"]);
    expect([...hostInterfaces(docker, hardware).keys()]).toEqual(["eno1", "eno2", "ib0"]);
  });

  test("without sysfs, or with no hardware interface in sight, every interface but the virtual kinds counts", () => {
    const physical = ["eno1", "eno2", "ib0"];
    expect([...hostInterfaces(docker, null).keys()]).toEqual(physical);
    expect([...hostInterfaces(docker, new Set()).keys()]).toEqual(physical);
    // The fixture VM's own file: loopback and the two ifb devices are left out by name.
    expect([...hostInterfaces(parseNetDev(fixture("net/dev")), null).keys()]).toEqual(["eth0"]);
  });

  test("netInclude names exactly what counts, over sysfs and the default excludes", () => {
    const hardware = new Set(["eno1", "eno2", "ib0"]);
    expect([...hostInterfaces(docker, hardware, { include: ["ib*"] }).keys()]).toEqual(["ib0"]);
    expect([...hostInterfaces(docker, null, { include: ["eno?", "docker0"] }).keys()]).toEqual(["eno1", "eno2", "docker0"]);
    expect([...hostInterfaces(docker, hardware, { include: ["nothing*"] }).keys()]).toEqual([]);
  });

  test("netExclude removes interfaces from whichever set counts", () => {
    const hardware = new Set(["eno1", "eno2", "ib0"]);
    expect([...hostInterfaces(docker, hardware, { exclude: ["eno2"] }).keys()]).toEqual(["eno1", "ib0"]);
    expect([...hostInterfaces(docker, null, { exclude: ["ib*"] }).keys()]).toEqual(["eno1", "eno2"]);
    expect([...hostInterfaces(docker, null, { include: ["eno*"], exclude: ["*2"] }).keys()]).toEqual(["eno1"]);
  });

  test("empty pattern lists change nothing", () => {
    const hardware = new Set(["eno1", "eno2", "ib0"]);
    expect([...hostInterfaces(docker, hardware, { include: [], exclude: [""] }).keys()]).toEqual(["eno1", "eno2", "ib0"]);
  });
});

describe("globMatcher", () => {
  test("* and ? over the whole name; everything else is literal", () => {
    const match = globMatcher(["eth*", "ib?", "br-*", "enp65s0f1", "a.b"]);
    for (const name of ["eth", "eth0", "eth10", "ib0", "br-3f2a1c", "enp65s0f1", "a.b"]) expect(match(name)).toBe(true);
    for (const name of ["veth0", "ib10", "br0", "enp65s0f10", "axb", "xeth0"]) expect(match(name)).toBe(false);
    expect(globMatcher([])("eth0")).toBe(false);
  });
});

test("two real readings give the exact throughput of eth0", () => {
  const hardware = new Set(["eth0"]);
  const before = { atMs: 0, counters: hostInterfaces(parseNetDev(fixture("net/dev")), hardware) };
  const after = { atMs: 4000, counters: hostInterfaces(parseNetDev(fixture("variants/net-dev-later")), hardware) };
  // eth0: 246225594 -> 246854657 bytes received, 397632 -> 401033 transmitted.
  expect(bytesPerSecond(before, after)).toEqual([629063 / 4, 3401 / 4]);
});

describe("networkCollector", () => {
  test("the first read is null, the second a rate over the fixture's hardware NIC", () => {
    let now = 0;
    const collector = networkCollector();
    const ctx = { procRoot: PROC, sysRoot: SYS, now: () => now };
    expect(collector.collect(ctx)).toEqual({ netRxBps: null, netTxBps: null });
    now = 500;
    expect(collector.collect(ctx)).toEqual({ netRxBps: 0, netTxBps: 0 });
  });

  test("the options reach the filter: excluding the only NIC leaves nothing to measure", () => {
    let now = 0;
    const collector = networkCollector();
    const ctx = { procRoot: PROC, sysRoot: SYS, now: () => now, netExclude: ["eth*"] };
    collector.collect(ctx);
    now = 500;
    expect(collector.collect(ctx)).toEqual({ netRxBps: null, netTxBps: null });
  });

  test("netInclude can count an interface sysfs does not call hardware", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-net-"));
    try {
      mkdirSync(join(dir, "net"));
      copyFileSync(join(PROC, "net", "dev"), join(dir, "net", "dev"));
      let now = 0;
      const ctx = { procRoot: dir, sysRoot: SYS, now: () => now };
      const byDefault = networkCollector();
      const withLoopback = networkCollector();
      byDefault.collect(ctx);
      withLoopback.collect({ ...ctx, netInclude: ["eth*", "lo"] });
      // 2000 more bytes received and 4000 more sent on lo, none on eth0.
      const busyLoopback = fixture("net/dev").replace(
        /^ +lo:.*$/m,
        "    lo:   60487     600    0    0    0     0          0         0    62487     600    0    0    0     0       0          0",
      );
      writeFileSync(join(dir, "net", "dev"), busyLoopback);
      now = 4000;
      expect(byDefault.collect(ctx)).toEqual({ netRxBps: 0, netTxBps: 0 });
      expect(withLoopback.collect({ ...ctx, netInclude: ["eth*", "lo"] })).toEqual({ netRxBps: 500, netTxBps: 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing /proc/net/dev is null, not 0", () => {
    const ctx = { procRoot: "/nonexistent", sysRoot: SYS, now: () => 0 };
    expect(networkCollector().collect(ctx)).toEqual({ netRxBps: null, netTxBps: null });
  });
});
