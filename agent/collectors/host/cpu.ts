// CPU busy percentage of all cores together, from the tick counters in /proc/stat.
import { join } from "node:path";
import { counter, parseError, readKernelFile, type Collector } from "./collector.ts";

export type CpuTicks = { readonly busy: number; readonly total: number };

/**
 * Reads the aggregate "cpu " line (the sum over all cores, so the percentage is already "all cores
 * together"). Older kernels print fewer columns: only user, nice, system and idle are required.
 */
export function parseStat(text: string): CpuTicks {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) throw parseError("/proc/stat", "no aggregate cpu line");
  const fields = line.trim().split(/\s+/).slice(1);
  if (fields.length < 4) throw parseError("/proc/stat", `cpu line has ${fields.length} values, expected at least 4`);
  const names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
  // guest and guest_nice (columns 9 and 10) are already counted inside user and nice.
  const ticks = names.map((name, i) => (fields[i] === undefined ? 0 : counter("/proc/stat", fields[i], `cpu ${name}`)));
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Null when no tick passed or the counters went backwards (e.g. a CPU was taken offline). */
export function cpuPercent(prev: CpuTicks, cur: CpuTicks): number | null {
  const total = cur.total - prev.total;
  if (!(total > 0)) return null;
  // iowait may decrease (Documentation/filesystems/proc.rst calls it unreliable), which can push
  // the busy delta past the total delta for one interval; clamp rather than report 103 %.
  const percent = (100 * (cur.busy - prev.busy)) / total;
  return Math.min(100, Math.max(0, percent));
}

export function cpuCollector(): Collector {
  let prev: CpuTicks | null = null;
  return {
    name: "cpu",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "stat"));
      if (text === null) {
        prev = null;
        return { cpuPercent: null };
      }
      const cur = parseStat(text);
      const percent = prev === null ? null : cpuPercent(prev, cur);
      prev = cur;
      return { cpuPercent: percent };
    },
  };
}
