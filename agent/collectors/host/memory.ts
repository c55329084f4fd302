// Memory and swap in bytes, from /proc/meminfo.
import { join } from "node:path";
import { parseError, readKernelFile, type Collector } from "./collector.ts";
import type { HostVitals } from "../../../src/protocol/sample.ts";

export type MemoryVitals = Pick<HostVitals, "memoryUsed" | "memoryTotal" | "swapUsed" | "swapTotal">;

/** "Key:   123 kB" lines as bytes; the kernel's "kB" is KiB. Lines of other shapes are not needed here. */
function meminfoBytes(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([^:\s]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    values.set(match[1], Number(match[2]) * (match[3] ? 1024 : 1));
  }
  return values;
}

export function parseMeminfo(text: string): MemoryVitals {
  const kb = meminfoBytes(text);
  const need = (key: string): number => {
    const value = kb.get(key);
    if (value === undefined) throw parseError("/proc/meminfo", `no ${key} line`);
    return value;
  };
  const total = need("MemTotal");
  // MemAvailable arrived in Linux 3.14; before it, free + buffers + page cache is the usual estimate.
  const available = kb.get("MemAvailable") ?? need("MemFree") + need("Buffers") + need("Cached");
  const swapTotal = kb.get("SwapTotal");
  const swapFree = kb.get("SwapFree");
  const hasSwap = swapTotal !== undefined && swapFree !== undefined;
  return {
    memoryTotal: total,
    // MemAvailable can exceed MemTotal inside some containers (lxcfs); used is never negative.
    memoryUsed: Math.max(0, total - available),
    swapTotal: hasSwap ? swapTotal : null,
    swapUsed: hasSwap ? Math.max(0, swapTotal - swapFree) : null,
  };
}

export function memoryCollector(): Collector {
  return {
    name: "memory",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "meminfo"));
      if (text === null) return { memoryUsed: null, memoryTotal: null, swapUsed: null, swapTotal: null };
      return parseMeminfo(text);
    },
  };
}
