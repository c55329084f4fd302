// Checks how a GPU process is tied to a unit through its /proc/<pid>/cgroup: v1, v2, templates, slices, the user manager.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupInUnit, cgroupPathInUnit, parseCgroupPaths, unitPids } from "./cgroup.ts";

const tmp = mkdtempSync(join(tmpdir(), "vigil-cgroup-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// /proc/<pid>/cgroup of a comfyui.service process as a cgroup v2 host and a v1 host (CentOS 7's set of controllers) write it.
const V2 = "0::/system.slice/comfyui.service\n";
const V1 = [
  "11:cpuset:/",
  "10:memory:/system.slice/comfyui.service",
  "9:devices:/system.slice/comfyui.service",
  "8:pids:/system.slice/comfyui.service",
  "7:cpu,cpuacct:/system.slice/comfyui.service",
  "6:blkio:/system.slice/comfyui.service",
  "5:freezer:/",
  "4:perf_event:/",
  "3:net_cls,net_prio:/",
  "2:hugetlb:/",
  "1:name=systemd:/system.slice/comfyui.service",
  "",
].join("\n");
const HYBRID = "12:pids:/system.slice/comfyui.service\n1:name=systemd:/system.slice/comfyui.service\n0::/system.slice/comfyui.service\n";

describe("parseCgroupPaths", () => {
  test("v2, v1 and hybrid layouts", () => {
    expect(parseCgroupPaths(V2)).toEqual(["/system.slice/comfyui.service"]);
    expect(parseCgroupPaths(V1)).toHaveLength(11);
    expect(parseCgroupPaths(V1)).toContain("/");
    expect(parseCgroupPaths(HYBRID)).toEqual(Array(3).fill("/system.slice/comfyui.service"));
  });

  test("a path holding colons is kept whole", () => {
    expect(parseCgroupPaths("0::/system.slice/a:b.service\n")).toEqual(["/system.slice/a:b.service"]);
  });

  test("junk lines are skipped", () => {
    expect(parseCgroupPaths("garbage\n1:x\n\n")).toEqual([]);
  });
});

describe("cgroupPathInUnit", () => {
  test.each([
    ["/system.slice/comfyui.service", "comfyui.service"],
    ["/system.slice/comfyui.service/worker", "comfyui.service"],
    ["/system.slice/comfyui.service/a/b/c", "comfyui.service"],
    ["/system.slice/system-foo.slice/foo@1.service", "foo@1.service"],
    ["/gpu.slice/gpu-inference.slice/vllm.service", "vllm.service"],
    ["/init.scope", "init.scope"],
    ["/system.slice/_cpu.service", "cpu.service"],
    ["/system.slice/comfyui.service", "system.slice"],
    ["/system.slice/system-foo.slice/foo@1.service", "system-foo.slice"],
    ["/user.slice/user-1000.slice/user@1000.service/app.slice/comfyui.service", "user@1000.service"],
  ])("%p is in %p", (path, unit) => {
    expect(cgroupPathInUnit(path, unit)).toBe(true);
  });

  test.each([
    ["/", "comfyui.service"],
    ["/system.slice/vllm.service", "comfyui.service"],
    ["/system.slice/comfyui.service2", "comfyui.service"],
    ["/system.slice/xcomfyui.service", "comfyui.service"],
    ["/system.slice/system-foo.slice/foo@2.service", "foo@1.service"],
    // A user's own comfyui.service: the system manager's restart never touches it.
    ["/user.slice/user-1000.slice/user@1000.service/app.slice/comfyui.service", "comfyui.service"],
    // A container the unit started with `docker run` lives in Docker's scope, not in the unit.
    ["/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope", "comfyui.service"],
    ["/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "comfyui.service"],
    ["/system.slice/other.service/comfyui.service", "comfyui.service"],
  ])("%p is not in %p", (path, unit) => {
    expect(cgroupPathInUnit(path, unit)).toBe(false);
  });
});

describe("cgroupInUnit", () => {
  test("any hierarchy that places the process in the unit counts", () => {
    expect(cgroupInUnit(V2, "comfyui.service")).toBe(true);
    expect(cgroupInUnit(V1, "comfyui.service")).toBe(true);
    expect(cgroupInUnit(HYBRID, "comfyui.service")).toBe(true);
    expect(cgroupInUnit(V1, "vllm.service")).toBe(false);
    expect(cgroupInUnit("", "comfyui.service")).toBe(false);
  });
});

describe("unitPids", () => {
  const proc = join(tmp, "proc");
  const write = (pid: number, text: string) => {
    mkdirSync(join(proc, String(pid)), { recursive: true });
    writeFileSync(join(proc, String(pid), "cgroup"), text);
  };
  write(101, V2);
  write(102, V1);
  write(103, "0::/system.slice/system-foo.slice/foo@1.service\n");
  write(200, "0::/system.slice/vllm.service\n");

  test("the unit's pids, once each and sorted; ended processes are skipped", async () => {
    expect(await unitPids(proc, [200, 102, 101, 102, 999], "comfyui.service")).toEqual([101, 102]);
    expect(await unitPids(proc, [101, 103, 200], "foo@1.service")).toEqual([103]);
    expect(await unitPids(proc, [], "comfyui.service")).toEqual([]);
    expect(await unitPids(proc, [999], "comfyui.service")).toEqual([]);
  });

  // Root reads the file whatever its mode, so only another user can see the error.
  test.skipIf(process.getuid?.() === 0)("a cgroup file that exists but cannot be read is an error, not an ended process", async () => {
    write(300, V2);
    chmodSync(join(proc, "300", "cgroup"), 0o000);
    try {
      await expect(unitPids(proc, [300], "comfyui.service")).rejects.toThrow(`failed to read ${join(proc, "300", "cgroup")}: EACCES`);
    } finally {
      chmodSync(join(proc, "300", "cgroup"), 0o644);
    }
  });
});
