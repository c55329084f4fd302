// `vigil agent` as a user meets it when things go wrong: its one-line errors say what to do, once.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { runVigil, spawnVigil, tempDir } from "../harness/process.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("vigil agent errors", () => {
  test("a refused enrollment token is one line with the command named once", async () => {
    const head = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) =>
        new URL(req.url).pathname === "/api/v1/agent/enroll"
          ? Response.json({ error: "unknown or expired enrollment token" }, { status: 403 })
          : new Response("no", { status: 404 }),
    });
    try {
      const dir = tempDir("vigil-agent-cli-");
      dirs.push(dir);
      const r = await runVigil(["agent", "--head", `http://127.0.0.1:${head.port}`, "--token", "bogus"], {
        VIGIL_AGENT_DIR: dir,
        VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1",
        VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi",
      });
      expect(r.code).toBe(2);
      const line = r.stderr.split("\n").find((l) => l.startsWith("vigil agent:"));
      expect(line).toBe("vigil agent: the head refused the enrollment token: unknown or expired enrollment token");
    } finally {
      head.stop(true);
    }
  }, 30_000);

  test("--token without --head names the command once", async () => {
    const r = await runVigil(["agent", "--token", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("vigil agent: --token needs --head URL (or VIGIL_HEAD)");
  });

  test("--name that differs from the enrolled name is not used, and the agent says so", async () => {
    const head = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => {
        if (new URL(req.url).pathname === "/api/v1/agent/enroll") return Response.json({ workerId: 7, name: "gpu-07", secret: "vga_x" });
        return srv.upgrade(req, { data: undefined }) ? undefined : new Response("no", { status: 404 });
      },
      websocket: { message() {} },
    });
    const runs = [];
    try {
      for (const name of ["not-gpu-07", "gpu-07"]) {
        const dir = tempDir("vigil-agent-cli-");
        dirs.push(dir);
        const agent = spawnVigil({
          args: ["agent", "--head", `http://127.0.0.1:${head.port}`, "--token", "t", "--name", name, "--log-level", "info"],
          env: { VIGIL_AGENT_DIR: dir, VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" },
          port: head.port!,
        });
        runs.push(agent);
        for (let i = 0; i < 400 && !agent.stderr().includes('"agent running"'); i++) await Bun.sleep(25);
        await Bun.sleep(100);
        await agent.stop("SIGTERM");
        const warning = agent
          .stderr()
          .split("\n")
          .find((l) => l.includes("is not used"));
        if (name === "gpu-07") expect(warning).toBeUndefined();
        else {
          expect(warning).toContain("--name not-gpu-07 is not used: this agent is enrolled as gpu-07");
          expect(warning).toContain("vigil worker add");
        }
      }
    } finally {
      for (const r of runs) await r.stop("SIGKILL").catch(() => {});
      head.stop(true);
    }
  }, 30_000);
});
