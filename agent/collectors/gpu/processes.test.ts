import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseContainerId, parsePasswd, parseProcessName, parseUid, ProcessDirectory } from "./processes.ts";

const ID = "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b";

describe("parseContainerId", () => {
  test.each([
    ["docker, cgroup v2 systemd driver", `0::/system.slice/docker-${ID}.scope\n`],
    ["docker, cgroup v1", `12:memory:/docker/${ID}\n11:cpu:/docker/${ID}\n`],
    [
      "kubernetes with containerd",
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${ID}.scope\n`,
    ],
    ["kubernetes with CRI-O", `0::/kubepods.slice/kubepods-pod2.slice/crio-${ID}.scope\n`],
    ["podman", `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container\n`],
  ])("%s", (_, cgroup) => {
    expect(parseContainerId(cgroup)).toBe(ID.slice(0, 12));
  });

  test("a process outside any container has none", () => {
    expect(parseContainerId("0::/user.slice/user-1000.slice/session-3.scope\n")).toBeNull();
    expect(parseContainerId("0::/\n")).toBeNull();
  });
});

describe("process name and user", () => {
  test("comm is used, or the executable's full name when comm is its truncated prefix", () => {
    expect(parseProcessName("Name:\tpython3\nUmask:\t0022\n", "/usr/bin/python3\0train.py\0")).toBe("python3");
    expect(parseProcessName("Name:\ttext-generation\n", "/opt/tgi/bin/text-generation-launcher\0--port\0")).toBe(
      "text-generation-launcher",
    );
    expect(parseProcessName("Name:\tpt_main_thread\n", "python\0-m\0torch.distributed.run\0")).toBe("pt_main_thread");
    expect(parseProcessName("Umask:\t0022\n", "/usr/bin/ollama\0serve\0")).toBe("ollama");
  });

  test("uid from status, names from passwd", () => {
    expect(parseUid("Name:\tx\nUid:\t1001\t1001\t1001\t1001\n")).toBe(1001);
    expect(parseUid("Name:\tx\n")).toBeNull();
    const users = parsePasswd("root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/bash\nbroken\n");
    expect(users.get(0)).toBe("root");
    expect(users.get(1001)).toBe("alice");
  });
});

describe("ProcessDirectory", () => {
  test("describes a process from a /proc tree, with users from the passwd beside it", () => {
    const root = mkdtempSync(join(tmpdir(), "vigil-procs-"));
    mkdirSync(join(root, "proc/4242"), { recursive: true });
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/bash\n");
    writeFileSync(join(root, "proc/4242/status"), "Name:\tpython3\nUid:\t1001\t1001\t1001\t1001\n");
    writeFileSync(join(root, "proc/4242/cmdline"), "python3\0train.py\0");
    writeFileSync(join(root, "proc/4242/cgroup"), `0::/system.slice/docker-${ID}.scope\n`);
    const dir = new ProcessDirectory(join(root, "proc"));
    expect(dir.describe(4242)).toEqual({ name: "python3", user: "alice", container: ID.slice(0, 12) });
    // Gone meanwhile, or in another PID namespace: nulls, not an error.
    expect(dir.describe(999999)).toEqual({ name: null, user: null, container: null });
  });

  test("an unknown uid is shown as the number", () => {
    const root = mkdtempSync(join(tmpdir(), "vigil-procs-"));
    mkdirSync(join(root, "proc/7"), { recursive: true });
    writeFileSync(join(root, "proc/7/status"), "Name:\tjob\nUid:\t5000\t5000\t5000\t5000\n");
    expect(new ProcessDirectory(join(root, "proc")).describe(7)).toEqual({ name: "job", user: "5000", container: null });
  });

  test("this machine's own process is found", () => {
    const me = new ProcessDirectory("/proc").describe(process.pid);
    expect(me.name).toBeString();
    expect(me.user).toBeString();
  });
});
