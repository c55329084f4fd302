// Which GPU processes belong to a systemd unit, from /proc/<pid>/cgroup: a job-aware restart waits for exactly these.
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The cgroup paths in a /proc/<pid>/cgroup text. Each line is "hierarchy:controllers:path": cgroup v2
 * has the one line "0::/system.slice/x.service", v1 one line per hierarchy ("4:pids:/...",
 * "1:name=systemd:/..."), the hybrid layout both.
 */
export function parseCgroupPaths(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = first === -1 ? -1 : line.indexOf(":", first + 1);
    if (second === -1) continue;
    // Everything after the second colon: the path itself may hold colons (unit names may).
    const path = line.slice(second + 1);
    if (path.startsWith("/")) paths.push(path);
  }
  return paths;
}

/**
 * Whether a cgroup path lies in the cgroup of the system manager's `unit` or below it. systemd puts a
 * unit at <slices>/<unit> (system.slice/comfyui.service, system-foo.slice/foo@1.service for a template
 * instance, any Slice= of the operator's) and what it delegates below that. So: walk down through
 * slices; the first segment that is not a slice must be the unit. This is what keeps a user's own
 * comfyui.service (user.slice/user-1000.slice/user@1000.service/app.slice/comfyui.service) out: the
 * system's restart does not touch it. For a .slice unit, any slice on the way counts.
 */
export function cgroupPathInUnit(path: string, unit: string): boolean {
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    // systemd's cg_escape() prefixes "_" to names that would clash with cgroupfs files (a unit
    // starting with "_" or ".", or "cpu.service" next to cpu.* files); cg_unescape() strips one.
    const segment = raw.startsWith("_") ? raw.slice(1) : raw;
    if (segment === unit) return true;
    if (!segment.endsWith(".slice")) return false;
  }
  return false;
}

/** Whether a /proc/<pid>/cgroup text places the process in `unit`; any hierarchy counts (see below). */
export function cgroupInUnit(cgroupText: string, unit: string): boolean {
  // On v1 a controller the unit does not use lists the process at "/", which matches nothing; a
  // false match would only make a restart wait longer, a missed one could kill a running job.
  return parseCgroupPaths(cgroupText).some((path) => cgroupPathInUnit(path, unit));
}

/**
 * The pids among `pids` whose cgroup lies in `unit`, each once, in ascending order. A process that
 * ended since the sample (its /proc entry is gone) is not counted; any other read failure throws,
 * since guessing either way could restart a unit under a running job.
 */
export async function unitPids(procRoot: string, pids: readonly number[], unit: string): Promise<number[]> {
  const unique = [...new Set(pids)].filter((pid) => Number.isSafeInteger(pid) && pid > 0).sort((a, b) => a - b);
  const inUnit = await Promise.all(
    unique.map(async (pid) => {
      const path = join(procRoot, String(pid), "cgroup");
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ESRCH: the process exited between open() and read().
        if (code === "ENOENT" || code === "ESRCH") return false;
        throw new Error(`failed to read ${path}: ${code ?? (err as Error).message}`);
      }
      return cgroupInUnit(text, unit);
    }),
  );
  return unique.filter((_, i) => inUnit[i]);
}
