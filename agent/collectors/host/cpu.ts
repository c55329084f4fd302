// CPU busy percentage of all cores together and of each logical CPU, from the tick counters in /proc/stat.
import { join } from "node:path";
import { counter, parseError, readKernelFile, type Collector } from "./collector.ts";

export type CpuTicks = { readonly busy: number; readonly total: number };

/**
 * One "cpu" or "cpuN" line's ticks. Older kernels print fewer columns: only user, nice, system and
 * idle are required.
 */
function parseCpuLine(line: string): CpuTicks {
  const [label = "cpu", ...fields] = line.trim().split(/\s+/);
  if (fields.length < 4) throw parseError("/proc/stat", `${label} line has ${fields.length} values, expected at least 4`);
  const names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
  // guest and guest_nice (columns 9 and 10) are already counted inside user and nice.
  const ticks = names.map((name, i) => (fields[i] === undefined ? 0 : counter("/proc/stat", fields[i], `${label} ${name}`)));
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Reads the aggregate "cpu " line (the sum over all cores, so the percentage is already "all cores together"). */
export function parseStat(text: string): CpuTicks {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) throw parseError("/proc/stat", "no aggregate cpu line");
  return parseCpuLine(line);
}

/**
 * The "cpuN" lines by name ("cpu0", "cpu1", ...), in the kernel's order. The kernel prints only
 * online CPUs, so the names are not always 0..n-1.
 */
export function parseStatPerCpu(text: string): Map<string, CpuTicks> {
  const cpus = new Map<string, CpuTicks>();
  for (const line of text.split("\n")) {
    const label = /^cpu\d+\s/.exec(line)?.[0].trim();
    if (label !== undefined) cpus.set(label, parseCpuLine(line));
  }
  return cpus;
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

/**
 * One percentage per CPU online in the current reading, in the kernel's order (cpu0 first); a CPU
 * taken offline is not listed, as the kernel does not list it. The whole list is null for an
 * interval in which a listed CPU cannot be measured (it came online since the last reading, or no
 * tick passed), because the wire list has no room for a hole.
 */
export function cpuPercentPerCore(prev: ReadonlyMap<string, CpuTicks>, cur: ReadonlyMap<string, CpuTicks>): number[] | null {
  if (cur.size === 0) return null;
  const percents: number[] = [];
  for (const [name, ticks] of cur) {
    const before = prev.get(name);
    const percent = before === undefined ? null : cpuPercent(before, ticks);
    if (percent === null) return null;
    percents.push(percent);
  }
  return percents;
}

type StatReading = { readonly all: CpuTicks; readonly perCpu: ReadonlyMap<string, CpuTicks> };

export function cpuCollector(): Collector {
  let prev: StatReading | null = null;
  return {
    name: "cpu",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "stat"));
      if (text === null) {
        prev = null;
        return { cpuPercent: null, cpuPerCore: null };
      }
      const cur = { all: parseStat(text), perCpu: parseStatPerCpu(text) };
      const result = {
        cpuPercent: prev === null ? null : cpuPercent(prev.all, cur.all),
        cpuPerCore: prev === null ? null : cpuPercentPerCore(prev.perCpu, cur.perCpu),
      };
      prev = cur;
      return result;
    },
  };
}
