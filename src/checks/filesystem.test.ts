import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkContext, localAgent } from "../../test/checks/harness.ts";
import { filesystem, judgeSpace, mountOf } from "./filesystem.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-test-fs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The real free space is whatever this machine has: thresholds far above or below it force each state.
const EXABYTE = 2 ** 60;

describe("filesystem check on the head: a real temporary directory", () => {
  test("healthy: above every threshold, with free bytes and percent; the write test leaves nothing behind", async () => {
    const o = await filesystem.run({ path: dir, warnFreePercent: 0, minFreePercent: 0, writeTest: true }, checkContext());
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(new RegExp(`^${dir}: .+ free of .+ \\(.+ %\\); write test passed in \\d+ ms$`));
    expect(o.details).toMatchObject({ path: dir, on: "head", writable: true });
    expect(o.details.freeBytes).toBeGreaterThan(0);
    expect(o.details.totalBytes).toBeGreaterThanOrEqual(o.details.freeBytes as number);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("degraded: less free than warnFreePercent", async () => {
    const o = await filesystem.run({ path: dir, warnFreePercent: 100, minFreePercent: 0 }, checkContext());
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(/, below 100 %$/);
  });

  test("down: less free than minFreeBytes; a missing path; a write test refused", async () => {
    const full = await filesystem.run({ path: dir, minFreeBytes: EXABYTE }, checkContext());
    expect(full.status).toBe("down");
    expect(full.message).toMatch(new RegExp(`^${dir}: only .+, below 1024 PiB$`));
    const missing = await filesystem.run({ path: `${dir}/nope` }, checkContext());
    expect(missing).toMatchObject({ status: "down", message: `statfs ${dir}/nope: no such file or directory (ENOENT)` });
    // sysfs refuses new files even to root.
    const refused = await filesystem.run({ path: "/sys", warnFreePercent: 0, minFreePercent: 0, writeTest: true }, checkContext());
    expect(refused.status).toBe("down");
    expect(refused.message).toMatch(/^\/sys: write test in \/sys: permission denied \(EACCES\)/);
    expect(refused.details.writable).toBe(false);
  });

  test("a file's path is tested in its directory", async () => {
    writeFileSync(join(dir, "model.bin"), "x");
    const o = await filesystem.run(
      { path: join(dir, "model.bin"), warnFreePercent: 0, minFreePercent: 0, writeTest: true },
      checkContext(),
    );
    expect(o.status).toBe("healthy");
    rmSync(join(dir, "model.bin"));
  });

  test("diagnose names the mount", async () => {
    const lines = await filesystem.diagnose!({ path: dir, warnFreePercent: 0, minFreePercent: 0 }, checkContext());
    expect(lines[0]).toMatch(new RegExp(`^${dir} is on \\S+ mounted at /\\S*`));
    expect(lines[1]).toMatch(/^healthy: /);
  });
});

describe("filesystem check on a worker, through its agent", () => {
  test("the three states from the agent's numbers, and the agent away", async () => {
    const agent = localAgent();
    const ctx = checkContext({ workerId: 5, probe: agent.probe });
    const ok = await filesystem.run({ path: dir, warnFreePercent: 0, minFreePercent: 0, writeTest: true }, ctx);
    expect(ok.status).toBe("healthy");
    expect(ok.details).toMatchObject({ on: "worker 5", writable: true });
    expect(agent.asked[0]?.probe).toEqual({ kind: "filesystem", path: dir, writeTest: true });
    expect((await filesystem.run({ path: dir, warnFreePercent: 100, minFreePercent: 0 }, ctx)).status).toBe("degraded");
    expect((await filesystem.run({ path: dir, minFreeBytes: EXABYTE }, ctx)).status).toBe("down");
    const ro = await filesystem.run({ path: "/sys", warnFreePercent: 0, minFreePercent: 0, writeTest: true }, ctx);
    expect(ro.message).toMatch(/^\/sys on worker 5: write test: permission denied \(EACCES\)/);
    const away = await filesystem.run({ path: dir }, checkContext({ workerId: 5 }));
    expect(away.message).toBe(`${dir} on worker 5: agent of worker 5 is not connected`);
  });
});

describe("filesystem: pure parts", () => {
  const GiB = 1024 ** 3;
  test("judgeSpace: bytes floor, percent floor, warning", () => {
    expect(judgeSpace({ free: 50 * GiB, total: 100 * GiB }, { path: "/" })).toEqual({
      status: "healthy",
      text: "50.0 GiB free of 100 GiB (50 %)",
      freePercent: 50,
    });
    expect(judgeSpace({ free: 8 * GiB, total: 100 * GiB }, { path: "/" }).status).toBe("degraded");
    expect(judgeSpace({ free: 4 * GiB, total: 100 * GiB }, { path: "/" }).text).toBe("only 4.0 GiB free of 100 GiB (4.0 %), below 5 %");
    expect(judgeSpace({ free: 40 * GiB, total: 1000 * GiB }, { path: "/", minFreeBytes: 50 * GiB }).status).toBe("down");
    expect(judgeSpace({ free: 0, total: 0 }, { path: "/", minFreePercent: 0, warnFreePercent: 0 }).status).toBe("healthy");
  });

  test("mountOf: the longest mount point holding the path, octal escapes undone", () => {
    const mounts = ["overlay / overlay rw 0 0", "/dev/nvme0n1 /data ext4 rw 0 0", "/dev/sdb /data/my\\040models xfs ro 0 0"].join("\n");
    expect(mountOf(mounts, "/data/x")?.device).toBe("/dev/nvme0n1");
    expect(mountOf(mounts, "/data/my models/llama")).toMatchObject({ device: "/dev/sdb", mountPoint: "/data/my models", options: "ro" });
    expect(mountOf(mounts, "/database")?.mountPoint).toBe("/");
  });
});
