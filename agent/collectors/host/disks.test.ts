// Checks which mounts count as disks and how statfs numbers become used and total bytes.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type StatsFs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diskFromStatfs, disksCollector, parseMounts, selectDiskMounts } from "./disks.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const fixture = (path: string) => readFileSync(join(PROC, path), "utf8");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

/** statfs of this fixture machine's root filesystem, as Bun returned it. */
const ROOT_STATFS: StatsFs = {
  type: 61267,
  bsize: 4096,
  frsize: 4096,
  blocks: 66053021,
  bfree: 60262798,
  bavail: 20807505,
  files: 16777216,
  ffree: 16363591,
};

const tmp = mkdtempSync(join(tmpdir(), "vigil-disks-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("parseMounts", () => {
  test("reads device, mount point and type, unescaping the kernel's octal escapes", () => {
    const mounts = parseMounts(fixture("variants/mounts-gpu-server"));
    expect(mounts).toHaveLength(18);
    expect(mounts).toContainEqual({ device: "/dev/nvme1n1", mountPoint: "/mnt/scratch space", fsType: "ext4" });
  });

  test("names the file and the line when the text is not a mount table", () => {
    expect(() => parseMounts("/dev/vda / ext4 rw 0 0\n/dev/vdb\n")).toThrow(
      'failed to parse /proc/mounts: line 2 has fewer than 3 fields: "/dev/vdb"',
    );
  });
});

describe("selectDiskMounts", () => {
  test("keeps real local filesystems once per device", () => {
    const selected = selectDiskMounts(parseMounts(fixture("variants/mounts-gpu-server")));
    // Skipped: pseudo and memory filesystems, snap squashfs, NFS, docker overlay, a kubelet volume,
    // and the bind mount of /dev/md0 at /home/alice/datasets.
    expect(selected.map((m) => m.mountPoint)).toEqual(["/", "/boot/efi", "/data", "/mnt/scratch space", "/tank/models"]);
  });

  test("this machine's real table has one disk", () => {
    expect(selectDiskMounts(parseMounts(fixture("mounts")))).toEqual([{ device: "/dev/vda", mountPoint: "/", fsType: "ext4" }]);
  });
});

describe("diskFromStatfs", () => {
  test("used is what is allocated; total adds what workloads can still write", () => {
    expect(diskFromStatfs("/", ROOT_STATFS)).toEqual({
      mount: "/",
      used: (66053021 - 60262798) * 4096,
      total: (66053021 - 60262798 + 20807505) * 4096,
      inodesUsed: 16777216 - 16363591,
      inodesTotal: 16777216,
    });
  });

  test("blocks count in frsize units even when bsize is larger", () => {
    // virtiofs reports a 1 MiB transfer size over 4 KiB blocks.
    const virtiofs = { ...ROOT_STATFS, bsize: 1048576, frsize: 4096 };
    expect(diskFromStatfs("/data", virtiofs)).toMatchObject({ used: (66053021 - 60262798) * 4096 });
  });

  test("a filesystem without an inode table has unknown inodes, not zero", () => {
    const vfat = { ...ROOT_STATFS, files: 0, ffree: 0 };
    expect(diskFromStatfs("/boot/efi", vfat)).toMatchObject({ inodesUsed: null, inodesTotal: null });
  });

  test("a filesystem with no blocks is not a disk", () => {
    expect(diskFromStatfs("/x", { ...ROOT_STATFS, blocks: 0, bfree: 0, bavail: 0 })).toBeNull();
  });
});

describe("disksCollector", () => {
  test("prefers self/mounts, calls statfs on the real mount point, and skips mounts it cannot stat", () => {
    const procRoot = join(tmp, "proc");
    mkdirSync(join(procRoot, "self"), { recursive: true });
    writeFileSync(join(procRoot, "self", "mounts"), fixture("variants/mounts-gpu-server"));
    writeFileSync(join(procRoot, "mounts"), "/dev/other /other ext4 rw 0 0\n");
    const asked: string[] = [];
    const statfs = (path: string): StatsFs => {
      asked.push(path);
      if (path === "/tank/models") throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      return ROOT_STATFS;
    };
    const { disks } = disksCollector(statfs).collect(ctx(procRoot));
    expect(asked).toEqual(["/", "/boot/efi", "/data", "/mnt/scratch space", "/tank/models"]);
    expect(disks?.map((d) => d.mount)).toEqual(["/", "/boot/efi", "/data", "/mnt/scratch space"]);
  });

  test("falls back to /proc/mounts, and statfs really runs on this machine's /", () => {
    const { disks } = disksCollector().collect(ctx(PROC));
    expect(disks).toHaveLength(1);
    const [root] = disks ?? [];
    expect(root?.mount).toBe("/");
    expect(root?.total).toBeGreaterThan(0);
    expect(root?.used).toBeLessThanOrEqual(root?.total ?? 0);
  });

  test("no mount table at all means no disks", () => {
    expect(disksCollector().collect(ctx("/nonexistent"))).toEqual({ disks: [] });
  });
});
