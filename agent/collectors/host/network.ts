// Network receive and transmit throughput in bytes per second, from /proc/net/dev.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { counter, parseError, readKernelFile, type Collector } from "./collector.ts";
import { bytesPerSecond, type CounterReading, type DeviceCounters } from "./rates.ts";

/** Every interface's cumulative [bytes received, bytes transmitted]. */
export function parseNetDev(text: string): Map<string, [number, number]> {
  const interfaces = new Map<string, [number, number]>();
  text.split("\n").forEach((line, i) => {
    // The first two lines are the column headers.
    if (i < 2 || line.trim() === "") return;
    // Old kernels print no space after the colon once the counter is wide ("eth0:1234567890").
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (colon < 0 || name === "" || fields.length < 16) {
      throw parseError("/proc/net/dev", `line ${i + 1} is not "name: 16 counters": ${JSON.stringify(line)}`);
    }
    interfaces.set(name, [
      counter("/proc/net/dev", fields[0], `${name} bytes received`),
      counter("/proc/net/dev", fields[8], `${name} bytes transmitted`),
    ]);
  });
  return interfaces;
}

/**
 * The interfaces whose traffic is the host's own. When sysfs names the ones backed by hardware
 * (a "device" link in /sys/class/net/<name>/), only those count: a container's traffic also
 * crosses its veth pair and the docker bridge, and bonds and VLANs repeat their members' bytes,
 * so summing every interface would count the same bytes two or three times. Without that
 * knowledge (no sysfs, or no hardware interface in this namespace) all but loopback count.
 */
export function hostInterfaces(interfaces: ReadonlyMap<string, [number, number]>, hardware: ReadonlySet<string> | null): DeviceCounters {
  const useHardware = hardware !== null && [...interfaces.keys()].some((name) => hardware.has(name));
  return new Map([...interfaces].filter(([name]) => (useHardware ? hardware.has(name) : name !== "lo")));
}

function hardwareInterfaces(sysRoot: string, names: Iterable<string>): Set<string> | null {
  const classNet = join(sysRoot, "class", "net");
  if (!existsSync(classNet)) return null;
  return new Set([...names].filter((name) => existsSync(join(classNet, name, "device"))));
}

export function networkCollector(): Collector {
  let prev: CounterReading | null = null;
  return {
    name: "network",
    collect({ procRoot, sysRoot, now }) {
      const text = readKernelFile(join(procRoot, "net", "dev"));
      if (text === null) {
        prev = null;
        return { netRxBps: null, netTxBps: null };
      }
      const atMs = now();
      const interfaces = parseNetDev(text);
      const cur = { atMs, counters: hostInterfaces(interfaces, hardwareInterfaces(sysRoot, interfaces.keys())) };
      const rates = prev === null ? null : bytesPerSecond(prev, cur);
      prev = cur;
      return { netRxBps: rates?.[0] ?? null, netTxBps: rates?.[1] ?? null };
    },
  };
}
