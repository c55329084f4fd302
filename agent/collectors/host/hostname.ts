// The worker's hostname as the kernel holds it, from /proc/sys/kernel/hostname.
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { parseError, readKernelFile, type Collector } from "./collector.ts";

export function parseHostname(text: string): string {
  const name = text.trim();
  if (name === "") throw parseError("/proc/sys/kernel/hostname", "empty");
  return name;
}

export function hostnameCollector(): Collector {
  return {
    name: "hostname",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "sys", "kernel", "hostname"));
      // The schema has no null hostname, so a missing file falls back to the name the OS gives this process.
      return { hostname: text === null ? osHostname() : parseHostname(text) };
    },
  };
}
