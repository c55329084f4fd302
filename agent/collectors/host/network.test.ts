// Checks network throughput against two real /proc/net/dev readings and the interface filter.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hostInterfaces, networkCollector, parseNetDev } from "./network.ts";
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

  test("without sysfs, or with no hardware interface in sight, everything but loopback counts", () => {
    const all = ["eno1", "eno2", "docker0", "veth1a2b3c", "ib0"];
    expect([...hostInterfaces(docker, null).keys()]).toEqual(all);
    expect([...hostInterfaces(docker, new Set()).keys()]).toEqual(all);
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

  test("a missing /proc/net/dev is null, not 0", () => {
    const ctx = { procRoot: "/nonexistent", sysRoot: SYS, now: () => 0 };
    expect(networkCollector().collect(ctx)).toEqual({ netRxBps: null, netTxBps: null });
  });
});
