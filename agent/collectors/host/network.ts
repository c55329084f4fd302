// Network receive and transmit throughput in bytes per second, from /proc/net/dev.
//
// Which interfaces count, in order:
// 1. `netInclude` patterns, when the operator gives any: exactly the interfaces they match.
// 2. Otherwise the interfaces sysfs shows backed by hardware (/sys/class/net/<name>/device).
// 3. Otherwise (no sysfs, or a network namespace without hardware, as in a container) every
//    interface except the virtual kinds in DEFAULT_EXCLUDE: loopback, container and VM plumbing.
// `netExclude` patterns then remove interfaces from whichever set that gave. Patterns are globs on
// the whole name: "*" any run of characters, "?" one character ("eth*", "ib?", "enp65s0f1").
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
 * Interfaces that only carry traffic some other interface also counts, or none of the host's own:
 * loopback, bridges and veth pairs of Docker, libvirt and Kubernetes CNIs, overlay tunnels, and
 * bonds (their member NICs already count the bytes). Used only when sysfs cannot tell.
 */
export const DEFAULT_EXCLUDE: readonly string[] = [
  "lo",
  "docker*",
  "veth*",
  "br-*",
  "virbr*",
  "vnet*",
  "cni*",
  "flannel*",
  "cali*",
  "cilium*",
  "lxc*",
  "weave*",
  "kube-ipvs*",
  "nodelocaldns",
  "vxlan*",
  "tun*",
  "tap*",
  "ifb*",
  "dummy*",
  "bond*",
];

export type InterfaceFilter = { readonly include?: readonly string[]; readonly exclude?: readonly string[] };

/** One test for a list of globs: "*" is any run of characters, "?" one; the whole name must match. */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  const sources = patterns
    .filter((p) => p !== "")
    .map((p) =>
      p
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, "."),
    );
  if (sources.length === 0) return () => false;
  const regex = new RegExp(`^(?:${sources.join("|")})$`);
  return (name) => regex.test(name);
}

/**
 * The interfaces whose traffic is the host's own (the order of rules is in the header). Hardware
 * wins over name patterns where sysfs knows it: a container's traffic also crosses its veth pair
 * and the docker bridge, and bonds and VLANs repeat their members' bytes, so summing every
 * interface would count the same bytes two or three times, and no name list catches every kind.
 */
export function hostInterfaces(
  interfaces: ReadonlyMap<string, [number, number]>,
  hardware: ReadonlySet<string> | null,
  filter: InterfaceFilter = {},
): DeviceCounters {
  const excluded = globMatcher(filter.exclude ?? []);
  let candidate: (name: string) => boolean;
  if ((filter.include ?? []).some((p) => p !== "")) {
    candidate = globMatcher(filter.include ?? []);
  } else if (hardware !== null && [...interfaces.keys()].some((name) => hardware.has(name))) {
    candidate = (name) => hardware.has(name);
  } else {
    const virtual = globMatcher(DEFAULT_EXCLUDE);
    candidate = (name) => !virtual(name);
  }
  return new Map([...interfaces].filter(([name]) => candidate(name) && !excluded(name)));
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
    collect({ procRoot, sysRoot, now, netInclude, netExclude }) {
      const text = readKernelFile(join(procRoot, "net", "dev"));
      if (text === null) {
        prev = null;
        return { netRxBps: null, netTxBps: null };
      }
      const atMs = now();
      const interfaces = parseNetDev(text);
      const filter = { include: netInclude, exclude: netExclude };
      const cur = { atMs, counters: hostInterfaces(interfaces, hardwareInterfaces(sysRoot, interfaces.keys()), filter) };
      const rates = prev === null ? null : bytesPerSecond(prev, cur);
      prev = cur;
      return { netRxBps: rates?.[0] ?? null, netTxBps: rates?.[1] ?? null };
    },
  };
}
