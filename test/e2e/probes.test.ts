// A head and a real agent process over the WebSocket: unit, files and log probes run on the agent's side, refusals decided there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../src/auth/audit.ts";
import { addWorker, enroll } from "../../src/fleet/enrollment.ts";
import { probeRouterOf, ProbeRouter } from "../../src/health/probes.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { REPO, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const NO_GPU = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
const FAKE_SYSTEMCTL = join(REPO, "test/fake-systemctl/systemctl");

let head: TestHead;
let router: ProbeRouter;
let agent: VigilProcess;
let workerId: number;
const dir = realpathSync(tempDir("vigil-e2e-probes-"));
const models = join(dir, "models");
const bin = join(dir, "bin");
const systemctlCalls = join(dir, "systemctl.calls");
const journalctlCalls = join(dir, "journalctl.calls");

const calls = (file: string): string[][] =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[])
    : [];

beforeAll(async () => {
  // The head in this process, listening for real, so the test holds its probe router; the agent is the real `vigil agent`.
  head = await startTestHead("pglite");
  head.app.listen({ hostname: "127.0.0.1", port: 0 });
  const port = head.app.server!.port!;
  // Until assembleHead makes the router, the test does; the agents route finds it through the sessions either way.
  router = probeRouterOf(head.ctx.sessions) ?? new ProbeRouter(head.ctx.sessions);
  workerId = head.agent.workerId;

  mkdirSync(join(models, "sdxl"), { recursive: true });
  writeFileSync(join(models, "sdxl", "unet.safetensors"), "weights");
  writeFileSync(join(models, "comfyui.log"), "starting\nloaded sdxl\nlistening on 127.0.0.1:8188\n");
  writeFileSync(join(dir, "journal"), "2026-11-23T10:00:01+0000 gpu-07 python3[4242]: ready\n");
  writeFileSync(
    join(dir, "show"),
    "ActiveState=active\nSubState=running\nLoadState=loaded\nUnitFileState=enabled\nActiveEnterTimestamp=\n",
  );
  // test/fake-systemctl records the call; `show` then prints what a running unit shows.
  mkdirSync(bin);
  writeFileSync(
    join(bin, "systemctl"),
    `#!/usr/bin/env bash\n${JSON.stringify(FAKE_SYSTEMCTL)} "$@" || exit $?\nif [ "$1" = show ]; then cat ${JSON.stringify(join(dir, "show"))}; fi\n`,
    { mode: 0o755 },
  );

  // The worker's credential, as enrollment leaves it: no token needed.
  const state = join(dir, "agent");
  mkdirSync(state);
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(state, "credential.json"),
    JSON.stringify({ head: url, workerId, name: head.agent.name, secret: head.agent.secret, tokenHash: null }),
  );
  agent = spawnVigil({
    args: ["agent", "--head", url, "--interval", "1"],
    env: {
      ...NO_GPU,
      VIGIL_AGENT_DIR: state,
      VIGIL_RESTART_ALLOW: "comfyui.service",
      VIGIL_PROBE_PATHS: models,
      PATH: `${bin}:${join(REPO, "test/fake-journalctl")}:${process.env.PATH}`,
      FAKE_SYSTEMCTL_LOG: systemctlCalls,
      FAKE_JOURNALCTL_LOG: journalctlCalls,
      FAKE_JOURNALCTL_OUTPUT: join(dir, "journal"),
    },
    port,
  });
  const deadline = Date.now() + 30_000;
  while (!head.ctx.sessions.connected(workerId)) {
    if (agent.proc.exitCode !== null) throw new Error(`the agent exited with ${agent.proc.exitCode}:\n${agent.stderr()}`);
    if (Date.now() > deadline) throw new Error(`the agent did not connect within 30 s:\n${agent.stderr()}`);
    await Bun.sleep(100);
  }
}, 60_000);

afterAll(async () => {
  router?.close();
  await agent?.stop();
  await head?.app.stop(true);
  await head?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A bare WebSocket on the agent endpoint, for agents other than this version's. */
async function rawAgent(
  secret: string,
  onMessage: (m: { type: string; id?: string }, socket: WebSocket) => void = () => {},
): Promise<{ socket: WebSocket; received: { type: string; id?: string }[] }> {
  const received: { type: string; id?: string }[] = [];
  const socket = new WebSocket(`ws://127.0.0.1:${head.app.server!.port}/api/v1/agent/ws`, {
    headers: { authorization: `Bearer ${secret}`, "x-vigil-version": "0.0.1" },
  } as unknown as string[]);
  socket.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { type: string; id?: string };
    received.push(m);
    onMessage(m, socket);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return { socket, received };
}

describe("probes through a real agent", () => {
  test("unit: the agent runs systemctl show with an argv array and answers with the state", async () => {
    const answer = await router.run(workerId, { kind: "unit", unit: "comfyui.service" }, 10_000);
    expect(answer).toEqual({
      ok: true,
      result: {
        unit: "comfyui.service",
        loadState: "loaded",
        activeState: "active",
        subState: "running",
        unitFileState: "enabled",
        activeEnterTimestamp: null,
        activeSince: null,
      },
    });
    expect(calls(systemctlCalls)).toEqual([
      ["show", "comfyui.service", "--property=ActiveState,SubState,LoadState,UnitFileState,ActiveEnterTimestamp", "--no-pager"],
    ]);
  }, 20_000);

  test("unit: a name with shell syntax is refused on the worker and never reaches systemctl", async () => {
    const before = calls(systemctlCalls).length;
    const answer = await router.run(workerId, { kind: "unit", unit: "x;reboot.service" }, 10_000);
    expect(answer).toMatchObject({ ok: false, error: expect.stringContaining('"x;reboot.service" is not a valid unit name') });
    expect(calls(systemctlCalls)).toHaveLength(before);
  }, 20_000);

  test("files: model files present and missing under VIGIL_PROBE_PATHS", async () => {
    const answer = await router.run(
      workerId,
      { kind: "files", paths: [join(models, "sdxl", "unet.safetensors"), join(models, "sdxl", "vae.safetensors")] },
      10_000,
    );
    expect(answer.ok).toBe(true);
    expect(answer.result.files).toEqual([
      { path: join(models, "sdxl", "unet.safetensors"), exists: true, type: "file", size: 7, mtime: expect.any(String) },
      { path: join(models, "sdxl", "vae.safetensors"), exists: false, type: null, size: null, mtime: null },
    ]);
  }, 20_000);

  test("files: a path outside VIGIL_PROBE_PATHS is refused by the agent, with the reason", async () => {
    for (const path of ["/etc/shadow", `${models}/../journal`]) {
      const answer = await router.run(workerId, { kind: "files", paths: [path] }, 10_000);
      expect(answer.ok).toBe(false);
      expect(answer.error).toStartWith(`path ${path} is not under VIGIL_PROBE_PATHS (${models})`);
    }
  }, 20_000);

  test("log: the last lines of an allowed unit's journal and of a file; another unit's log is refused", async () => {
    const journal = await router.run(workerId, { kind: "log", unit: "comfyui.service", lines: 100 }, 10_000);
    expect(journal).toEqual({
      ok: true,
      result: { source: "comfyui.service", lines: ["2026-11-23T10:00:01+0000 gpu-07 python3[4242]: ready"] },
    });
    expect(calls(journalctlCalls)).toEqual([["-u", "comfyui.service", "-n", "100", "--no-pager", "-o", "short-iso"]]);
    const file = await router.run(workerId, { kind: "log", path: join(models, "comfyui.log"), lines: 2 }, 10_000);
    expect(file.result).toEqual({ source: join(models, "comfyui.log"), lines: ["loaded sdxl", "listening on 127.0.0.1:8188"] });
    const other = await router.run(workerId, { kind: "log", unit: "sshd.service", lines: 100 }, 10_000);
    expect(other).toMatchObject({ ok: false, error: expect.stringContaining("not on this agent's restart allow-list") });
    expect(calls(journalctlCalls)).toHaveLength(1);
  }, 20_000);

  test("an agent that never answers probes (one built before them): its socket stays open and the head gives up after the timeout", async () => {
    // A bare socket standing for an agent built before probes: it parses nothing it does not know and answers nothing.
    const { workerId: oldId, secret } = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-old")).token, {});
    const old = await rawAgent(secret);
    try {
      while (!head.ctx.sessions.connected(oldId)) await Bun.sleep(20);
      await expect(router.run(oldId, { kind: "unit", unit: "comfyui.service" }, 300)).rejects.toThrow(
        `worker ${oldId}'s agent did not answer the unit probe within 0.3 s`,
      );
      expect(old.received.map((m) => m.type)).toContain("probe");
      expect(old.socket.readyState).toBe(WebSocket.OPEN);
      expect(head.ctx.sessions.connected(oldId)).toBe(true);
    } finally {
      old.socket.close();
    }
  }, 20_000);

  test("an answer the head cannot read settles its probe with the reason instead of a timeout", async () => {
    const { workerId: badId, secret } = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-bad")).token, {});
    const bad = await rawAgent(secret, (m, socket) => {
      if (m.type === "probe") socket.send(JSON.stringify({ type: "probe-result", id: m.id, ok: true, result: "not an object" }));
    });
    try {
      while (!head.ctx.sessions.connected(badId)) await Bun.sleep(20);
      const answer = await router.run(badId, { kind: "unit", unit: "comfyui.service" }, 5000);
      expect(answer).toMatchObject({ ok: false, error: expect.stringMatching(/^the agent's answer is malformed: \/result/) });
    } finally {
      bad.socket.close();
    }
  }, 20_000);

  test("a worker with no agent connected is an error at once", async () => {
    await expect(router.run(workerId + 1000, { kind: "unit", unit: "comfyui.service" }, 10_000)).rejects.toThrow(
      `worker ${workerId + 1000}'s agent is not connected to this head`,
    );
  });
});
