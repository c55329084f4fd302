// Seconds since boot, from /proc/uptime.
import { join } from "node:path";
import { counter, readKernelFile, type Collector } from "./collector.ts";

/** The first field is uptime; the second (idle time summed over cores) is not needed. */
export function parseUptime(text: string): number {
  return counter("/proc/uptime", text.trim().split(/\s+/)[0], "uptime");
}

export function uptimeCollector(): Collector {
  return {
    name: "uptime",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "uptime"));
      return { uptimeSeconds: text === null ? null : parseUptime(text) };
    },
  };
}
