// Space and inodes used on each mounted real filesystem, from the mount table and statfs.
import { statfsSync, type StatsFs } from "node:fs";
import { join } from "node:path";
import { parseError, readKernelFile, type Collector } from "./collector.ts";
import type { Disk } from "../../../src/protocol/sample.ts";

export type Mount = { readonly device: string; readonly mountPoint: string; readonly fsType: string };

/** The sample schema holds at most this many disks; more would make the whole sample invalid. */
const MAX_DISKS = 256;

/** Filesystems that hold no user data: kernel views, memory-backed, or read-only images. */
const PSEUDO_FS = new Set([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fusectl",
  "hugetlbfs",
  "mqueue",
  "nsfs",
  "overlay",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "sysfs",
  "tmpfs",
  "tracefs",
  "squashfs",
  "erofs",
  "iso9660",
  "aufs",
  "nfsd",
  "fuse.lxcfs",
  "fuse.gvfsd-fuse",
  "fuse.portal",
  "fuse.snapfuse",
]);

/**
 * Network filesystems are left out: statfs on one whose server is gone blocks indefinitely, and
 * statfsSync would freeze the whole agent with it. Shared storage also reads the same on every worker.
 */
const NETWORK_FS = new Set([
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "smbfs",
  "ceph",
  "glusterfs",
  "fuse.glusterfs",
  "lustre",
  "fuse.sshfs",
  "fuse.rclone",
  "fuse.s3fs",
  "9p",
]);

/** Container and kubelet bind mounts repeat the host's disks; node_exporter skips the same trees. */
const SKIPPED_MOUNT_POINTS =
  /^\/(dev|proc|sys|run\/credentials\/.+|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+|var\/lib\/kubelet\/.+)($|\/)/;

/** The kernel escapes space, tab, newline and backslash in the mount table as octal (\040 ...). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const [device, mountPoint, fsType] = line.trim().split(/\s+/);
    if (device === undefined || mountPoint === undefined || fsType === undefined) {
      throw parseError("/proc/mounts", `line ${i + 1} has fewer than 3 fields: ${JSON.stringify(line)}`);
    }
    mounts.push({ device: unescapeMountField(device), mountPoint: unescapeMountField(mountPoint), fsType });
  });
  return mounts;
}

/**
 * The mounts worth reporting: real local filesystems, each device once. The first mount of a
 * device wins because the table is in mount order, so a disk's own mount point comes before the
 * bind mounts made from it later.
 */
export function selectDiskMounts(mounts: readonly Mount[]): Mount[] {
  const seen = new Set<string>();
  return mounts.filter((m) => {
    if (PSEUDO_FS.has(m.fsType) || NETWORK_FS.has(m.fsType)) return false;
    if (SKIPPED_MOUNT_POINTS.test(m.mountPoint)) return false;
    if (seen.has(m.device)) return false;
    seen.add(m.device);
    return true;
  });
}

/**
 * Total is used + available rather than the raw size, so used/total matches df's Use% and reaches
 * 100 % when workloads can no longer write: blocks reserved for root are not theirs to use.
 * Null when the filesystem reports no blocks at all, as only virtual ones do.
 */
export function diskFromStatfs(mountPoint: string, stats: StatsFs): Disk | null {
  if (stats.blocks === 0) return null;
  // Block counts are in units of frsize, not bsize: virtiofs and fuseblk report a bsize (transfer
  // size) up to 256 times larger (nodejs/node#62277, fluent/fluent-bit#9901). bsize only where a
  // runtime leaves frsize out.
  const unit = stats.frsize || stats.bsize;
  const used = (stats.blocks - stats.bfree) * unit;
  // vfat and some FUSE filesystems have no inode table and report 0 files: unknown, not full.
  const hasInodes = stats.files > 0;
  return {
    mount: mountPoint,
    used,
    total: used + stats.bavail * unit,
    inodesUsed: hasInodes ? stats.files - stats.ffree : null,
    inodesTotal: hasInodes ? stats.files : null,
  };
}

export function disksCollector(statfs: (path: string) => StatsFs = statfsSync): Collector {
  return {
    name: "disks",
    collect({ procRoot }) {
      const text = readKernelFile(join(procRoot, "self", "mounts")) ?? readKernelFile(join(procRoot, "mounts"));
      if (text === null) return { disks: [] };
      const disks: Disk[] = [];
      for (const mount of selectDiskMounts(parseMounts(text))) {
        let stats: StatsFs;
        try {
          // The mount table names host paths, so statfs goes to the path itself, not under a root.
          stats = statfs(mount.mountPoint);
        } catch {
          // Unmounted since the table was read, or not visible from this mount namespace.
          continue;
        }
        const disk = diskFromStatfs(mount.mountPoint, stats);
        if (disk) disks.push(disk);
        if (disks.length === MAX_DISKS) break;
      }
      return { disks };
    },
  };
}
