// What the host is, read once: distribution (os-release), kernel release, CPU model and logical CPU count.
import { join } from "node:path";
import { hostRoot, readKernelFile, type Collector } from "./collector.ts";
import type { HostVitals } from "../../../src/protocol/sample.ts";

export type SysInfo = Pick<HostVitals, "os" | "kernel" | "cpuModel" | "cpuCores">;

/** The schema's longest text; a longer value would make the whole sample invalid. */
const MAX_TEXT = 256;

function text(value: string | undefined): string | null {
  const clean = value?.replace(/\s+/g, " ").trim();
  return clean ? clean.slice(0, MAX_TEXT) : null;
}

/**
 * os-release's KEY=value lines (os-release(5)): values may be in double quotes with shell escapes
 * (\" \\ \$ \`), in single quotes taken literally, or bare. Comments and blank lines are skipped.
 */
export function parseOsRelease(content: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of content.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const raw = match[2];
    const quote = raw[0];
    if ((quote === '"' || quote === "'") && raw.length >= 2 && raw.endsWith(quote)) {
      const inner = raw.slice(1, -1);
      fields.set(match[1], quote === "'" ? inner : inner.replace(/\\([$"\\`])/g, "$1"));
    } else {
      fields.set(match[1], raw.replace(/\\([$"\\`])/g, "$1"));
    }
  }
  return fields;
}

/** PRETTY_NAME, or NAME and VERSION where a minimal os-release leaves it out. */
export function osName(fields: ReadonlyMap<string, string>): string | null {
  const pretty = text(fields.get("PRETTY_NAME"));
  if (pretty !== null) return pretty;
  const name = fields.get("NAME");
  return name === undefined ? null : text(`${name} ${fields.get("VERSION") ?? ""}`);
}

/** The kernel's release string, e.g. "6.8.0-45-generic". */
export function parseOsrelease(content: string): string | null {
  return text(content);
}

/** /proc/cpuinfo's "key : value" lines, one record per processor block. */
function cpuinfoBlocks(content: string): Map<string, string>[] {
  return content.split(/\n\s*\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim();
      if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
    }
    return fields;
  });
}

/**
 * arm64 kernels print no model name, only the MIDR's implementer and part numbers; these are the
 * names lscpu (util-linux sys-utils/lscpu-arm.c) gives the parts found in servers and boards.
 */
const ARM_PARTS: Record<string, { vendor: string; parts: Record<string, string> }> = {
  "0x41": {
    vendor: "ARM",
    parts: {
      "0xd03": "Cortex-A53",
      "0xd04": "Cortex-A35",
      "0xd05": "Cortex-A55",
      "0xd07": "Cortex-A57",
      "0xd08": "Cortex-A72",
      "0xd09": "Cortex-A73",
      "0xd0a": "Cortex-A75",
      "0xd0b": "Cortex-A76",
      "0xd0c": "Neoverse-N1",
      "0xd0d": "Cortex-A77",
      "0xd40": "Neoverse-V1",
      "0xd41": "Cortex-A78",
      "0xd49": "Neoverse-N2",
      "0xd4f": "Neoverse-V2",
      "0xd84": "Neoverse-V3",
      "0xd8e": "Neoverse-N3",
    },
  },
  "0x43": { vendor: "Cavium", parts: { "0x0af": "ThunderX2 99xx" } },
  "0x46": { vendor: "Fujitsu", parts: { "0x001": "A64FX" } },
  "0x48": { vendor: "HiSilicon", parts: { "0xd01": "Kunpeng-920" } },
  "0x4e": { vendor: "NVIDIA", parts: { "0x004": "Carmel" } },
  "0xc0": { vendor: "Ampere", parts: { "0xac3": "Ampere-1", "0xac4": "Ampere-1a" } },
};

function armPartName(implementer: string | undefined, part: string | undefined): string | null {
  if (implementer === undefined || part === undefined) return null;
  const vendor = ARM_PARTS[implementer.toLowerCase()];
  const name = vendor?.parts[part.toLowerCase()];
  return vendor === undefined || name === undefined ? null : `${vendor.vendor} ${name}`;
}

/**
 * x86 and 32-bit ARM print "model name". On arm64 the known core parts are named, every distinct
 * one in order, since big.LITTLE boards mix two ("ARM Cortex-A55 + ARM Cortex-A76"); failing that,
 * "Hardware" names the SoC as vendor kernels print it (a Raspberry Pi's says BCM2835). Else unknown.
 */
export function parseCpuModel(content: string): string | null {
  const blocks = cpuinfoBlocks(content);
  const model = blocks.map((b) => b.get("model name")).find((m) => m !== undefined && m !== "");
  if (model !== undefined) return text(model);
  const parts = [...new Set(blocks.map((b) => armPartName(b.get("CPU implementer"), b.get("CPU part"))))].filter((p) => p !== null);
  if (parts.length > 0) return text(parts.join(" + "));
  return text(blocks.map((b) => b.get("Hardware")).find((h) => h !== undefined && h !== ""));
}

/** "processor : N" entries; 32-bit ARM's "Processor : ARMv7 ..." line is a model, not an entry. */
export function countCpuinfoProcessors(content: string): number | null {
  const count = content.split("\n").filter((line) => /^processor\s*:\s*\d+\s*$/.test(line)).length;
  return count > 0 ? count : null;
}

/** Logical CPUs online: the "cpuN" lines of /proc/stat. */
export function countStatCpus(content: string): number | null {
  const count = content.split("\n").filter((line) => /^cpu\d+\s/.test(line)).length;
  return count > 0 ? count : null;
}

export function readSysInfo(procRoot: string): SysInfo {
  const root = hostRoot(procRoot);
  // os-release(5): /etc/os-release first, /usr/lib/os-release where a system ships only that.
  const osRelease = readKernelFile(join(root, "etc", "os-release")) ?? readKernelFile(join(root, "usr", "lib", "os-release"));
  const osrelease = readKernelFile(join(procRoot, "sys", "kernel", "osrelease"));
  const cpuinfo = readKernelFile(join(procRoot, "cpuinfo"));
  const stat = readKernelFile(join(procRoot, "stat"));
  return {
    os: osRelease === null ? null : osName(parseOsRelease(osRelease)),
    kernel: osrelease === null ? null : parseOsrelease(osrelease),
    cpuModel: cpuinfo === null ? null : parseCpuModel(cpuinfo),
    cpuCores: (stat === null ? null : countStatCpus(stat)) ?? (cpuinfo === null ? null : countCpuinfoProcessors(cpuinfo)),
  };
}

/** None of these change while the agent runs, so they are read on the first collection only. */
export function sysinfoCollector(): Collector {
  let cached: SysInfo | null = null;
  return {
    name: "sysinfo",
    collect({ procRoot }) {
      // A failed read is not cached: the next collection tries again.
      cached ??= readSysInfo(procRoot);
      return cached;
    },
  };
}
