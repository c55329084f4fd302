// The data directory's lock file: PGlite belongs to one process, so a second vigil must never open a held directory.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "vigil.lock";

export class DataDirBusy extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dir} is in use by vigil (pid ${pid}); stop that process first, or choose another VIGIL_DATA_DIR`);
    this.name = "DataDirBusy";
  }
}

export interface LockHolder {
  pid: number;
  startedAt: string;
  command: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else; it still holds the directory.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Who holds `dir`, if a live process does. A lock left by a crashed process does not count. */
export function lockHolder(dir: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as LockHolder;
    return holder.pid !== process.pid && alive(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock or throws DataDirBusy. Returns the release function. */
export function acquireDataDirLock(dir: string, command: string): () => void {
  const path = join(dir, LOCK_FILE);
  const body = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), command } satisfies LockHolder);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, body);
      closeSync(fd);
      return () => {
        try {
          const cur = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
          if (cur.pid === process.pid) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = lockHolder(dir);
      if (holder) throw new DataDirBusy(dir, holder.pid);
      // Stale lock from a process that died: remove it and try once more.
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
