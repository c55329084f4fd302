// The filesystem probe: free space and inodes of the filesystem holding a path, and optionally a write test in that directory.
import { constants, type StatsFs } from "node:fs";
import { open, stat, statfs, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { ProbeResult } from "../../src/protocol/messages.ts";
import { diskFromStatfs } from "../collectors/host/disks.ts";
import { errorText, type ProbeContext } from "./context.ts";
import { allowedPath } from "./paths.ts";

/**
 * Creates, fsyncs and deletes a small file in `dir`: what a full, read-only or failing disk stops
 * first. O_EXCL and O_NOFOLLOW, so the test never writes through a file or link already there.
 */
export async function writeTest(dir: string): Promise<{ writable: boolean; writeError?: string }> {
  const file = join(dir, `.vigil-write-test-${process.pid}-${randomBytes(6).toString("hex")}`);
  let created = false;
  try {
    const handle = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    created = true;
    try {
      await handle.write("vigil write test\n");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await unlink(file);
    created = false;
    return { writable: true };
  } catch (err) {
    return { writable: false, writeError: `cannot write in ${dir}: ${errorText(err)}`.slice(0, 2000) };
  } finally {
    if (created) await unlink(file).catch(() => {});
  }
}

/**
 * Free space may be read for any path, as df would show it: a disk filling up is the point of the
 * check and says nothing about what is on it. The write test creates a file, so its directory must
 * be under VIGIL_PROBE_PATHS like any path a probe reads.
 */
export async function filesystemProbe(probe: { path: string; writeTest: boolean }, ctx: ProbeContext): Promise<ProbeResult<"filesystem">> {
  if (!probe.path.startsWith("/")) throw new Error(`path ${JSON.stringify(probe.path)} is not absolute`);
  // Checked before anything is read, so a refused write test says so rather than reporting space.
  const dir = probe.writeTest ? await allowedPath(probe.path, ctx.settings.paths) : null;
  let stats: StatsFs;
  try {
    stats = await statfs(probe.path);
  } catch (err) {
    throw new Error(`cannot read the filesystem of ${probe.path}: ${errorText(err)}`);
  }
  const disk = diskFromStatfs(probe.path, stats);
  if (!disk) throw new Error(`${probe.path} is on a virtual filesystem that reports no space`);
  let write: { writable: boolean | null; writeError?: string } = { writable: null };
  if (dir !== null) {
    const info = await stat(dir);
    write = info.isDirectory() ? await writeTest(dir) : { writable: false, writeError: `${probe.path} is not a directory` };
  }
  return {
    path: probe.path,
    used: disk.used,
    total: disk.total,
    free: disk.total - disk.used,
    inodesUsed: disk.inodesUsed,
    inodesTotal: disk.inodesTotal,
    ...write,
  };
}
