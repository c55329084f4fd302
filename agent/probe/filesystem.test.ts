// Checks the filesystem probe on a temp directory: space as the samples count it, the write test, and where a write test may go.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statfsSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeContext } from "./context.ts";
import { filesystemProbe, writeTest } from "./filesystem.ts";

const tmp = realpathSync(mkdtempSync(join(tmpdir(), "vigil-probe-fs-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, "data");
mkdirSync(data);
writeFileSync(join(data, "file"), "x");
const ctx: ProbeContext = { settings: { logUnits: [], paths: [data] }, timeoutMs: 5000 };
const asRoot = process.getuid?.() === 0;

describe("filesystemProbe", () => {
  test("space and inodes of the filesystem holding the directory, as the samples count them", async () => {
    const r = await filesystemProbe({ path: data, writeTest: false }, ctx);
    const s = statfsSync(data);
    const unit = (s as { frsize?: number }).frsize || s.bsize;
    expect(r.path).toBe(data);
    expect(r.total).toBeGreaterThan(0);
    expect(r.used + r.free).toBe(r.total);
    // Another process may write meanwhile: within a few MiB of what statfs says now.
    expect(Math.abs(r.free - s.bavail * unit)).toBeLessThan(64 * 1024 * 1024);
    expect(r.writable).toBeNull();
  });

  test("free space may be read anywhere, as df shows it", async () => {
    const r = await filesystemProbe({ path: "/", writeTest: false }, ctx);
    expect(r.total).toBeGreaterThan(0);
  });

  test("the write test creates, syncs and deletes a file, leaving nothing behind", async () => {
    const r = await filesystemProbe({ path: data, writeTest: true }, ctx);
    expect(r.writable).toBe(true);
    expect(r.writeError).toBeUndefined();
    expect(readdirSync(data)).toEqual(["file"]);
  });

  test.skipIf(asRoot)("a directory that cannot be written: writable false, with the reason", async () => {
    const ro = join(data, "read-only");
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    try {
      const r = await filesystemProbe({ path: ro, writeTest: true }, ctx);
      expect(r.writable).toBe(false);
      expect(r.writeError).toMatch(new RegExp(`^cannot write in ${ro}: EACCES`));
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      chmodSync(ro, 0o700);
    }
  });

  test("a write test outside VIGIL_PROBE_PATHS is refused before anything is written", async () => {
    await expect(filesystemProbe({ path: tmp, writeTest: true }, ctx)).rejects.toThrow(
      `path ${tmp} is not under VIGIL_PROBE_PATHS (${data})`,
    );
    symlinkSync(tmp, join(data, "up"));
    await expect(filesystemProbe({ path: join(data, "up"), writeTest: true }, ctx)).rejects.toThrow(`it leads to ${tmp}`);
    expect(readdirSync(tmp).sort()).toEqual(["data"]);
  });

  test("a write test on a file says it is not a directory", async () => {
    const r = await filesystemProbe({ path: join(data, "file"), writeTest: true }, ctx);
    expect(r).toMatchObject({ writable: false, writeError: `${join(data, "file")} is not a directory` });
  });

  test("a path that does not exist or is relative is an error", async () => {
    await expect(filesystemProbe({ path: join(tmp, "missing"), writeTest: false }, ctx)).rejects.toThrow(
      `cannot read the filesystem of ${join(tmp, "missing")}: ENOENT`,
    );
    await expect(filesystemProbe({ path: "data", writeTest: false }, ctx)).rejects.toThrow('path "data" is not absolute');
  });

  test("a filesystem that refuses new files, even to root: writable false, with the reason", async () => {
    // sysfs takes no new files from anyone, so this holds when the tests run as root too.
    const r = await writeTest("/sys");
    expect(r.writable).toBe(false);
    expect(r.writeError).toMatch(/^cannot write in \/sys: (EACCES|EPERM|EROFS)/);
  });
});
