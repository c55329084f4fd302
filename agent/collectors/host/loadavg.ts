// Load averages over 1, 5 and 15 minutes, from /proc/loadavg.
import { join } from "node:path";
import { counter, parseError, readKernelFile, type Collector } from "./collector.ts";

export function parseLoadavg(text: string): [number, number, number] {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3) throw parseError("/proc/loadavg", `expected 3 load values, got ${JSON.stringify(text.trim())}`);
  return [
    counter("/proc/loadavg", fields[0], "1-minute load"),
    counter("/proc/loadavg", fields[1], "5-minute load"),
    counter("/proc/loadavg", fields[2], "15-minute load"),
  ];
}

export function loadavgCollector(): Collector {
  return {
    name: "loadavg",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "loadavg"));
      return { load: text === null ? null : parseLoadavg(text) };
    },
  };
}
