// The contract every host collector meets, and the file reading they share.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HostVitals } from "../../../src/protocol/sample.ts";

/** Where the kernel's files are: "/proc" and "/sys" on a host, a fixture tree in tests, a bind mount in a container. */
export type HostRoots = { readonly procRoot: string; readonly sysRoot: string };

export type CollectContext = HostRoots & {
  /** Monotonic milliseconds; rate collectors read it right after their file so the interval matches the counters. */
  readonly now: () => number;
  /** Interface patterns ("eth*", "ib?") the operator chose; see network.ts. */
  readonly netInclude?: readonly string[];
  readonly netExclude?: readonly string[];
  /** The Docker data directory to measure, instead of the one found under the host root; see docker.ts. */
  readonly dockerDir?: string;
  readonly dockerIntervalMs?: number;
};

export interface Collector {
  readonly name: string;
  /**
   * Returns only the fields this collector owns; throwing leaves them at their "unknown" values.
   * Never waits on anything slow: a collector whose source is slow measures in the background.
   */
  collect(ctx: CollectContext): Partial<HostVitals>;
  /** Stops background work (timers, child processes); only collectors that start any have it. */
  close?(): void;
}

/**
 * The host's filesystem root as seen through the proc root: "/" for "/proc", "/host" for a
 * container's "/host/proc" bind mount, "test/fixtures" for the fixture tree. Files outside /proc
 * and /sys (os-release, the Docker data directory) are read under it.
 */
export function hostRoot(procRoot: string): string {
  return dirname(procRoot);
}

/**
 * Reads a kernel file, or returns null when it does not exist: a kernel or container without the
 * file simply has nothing to report, which is not a failure. Any other error (EACCES, EIO) is one.
 */
export function readKernelFile(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new Error(`failed to read ${path}: ${code ?? (err as Error).message}`);
  }
}

/** Parse errors name the file as the kernel documents it, since the text could have come from any root. */
export function parseError(file: string, reason: string): Error {
  return new Error(`failed to parse ${file}: ${reason}`);
}

/** A counter field as a number; anything else means the format is not what this parser knows. */
export function counter(file: string, field: string | undefined, what: string): number {
  // Number() alone would read "" as 0 and accept "0x1f" or "-3", none of which the kernel prints.
  if (field === undefined || !/^\d+(\.\d+)?$/.test(field)) throw parseError(file, `${what} is ${JSON.stringify(field ?? null)}`);
  return Number(field);
}
