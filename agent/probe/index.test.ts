// Checks the probe dispatcher (answers, never throws; schema; timeout; in-flight bound; VIGIL_PROBE_PATHS) and the agent answering probes on its socket.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { log } from "../../src/log.ts";
import { parseAgentMessage, type WorkerProbeSpec } from "../../src/protocol/messages.ts";
import { makeSample } from "../../test/fixtures/samples.ts";
import { startPushAgent } from "../push.ts";
import { createProbeRunner, parseProbePaths, probeSettingsFromEnv, runProbe, type ProbeSettings } from "./index.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "vigil-probe-index-")));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("VIGIL_PROBE_PATHS", () => {
  test("comma-separated absolute directories", () => {
    expect(parseProbePaths("/srv/models, /var/log/comfyui ,,/srv/models")).toEqual(["/srv/models", "/var/log/comfyui"]);
    expect(parseProbePaths(undefined)).toEqual([]);
    expect(parseProbePaths("")).toEqual([]);
  });

  test("a relative entry stops the agent at start-up", () => {
    expect(() => parseProbePaths("/srv/models,models")).toThrow('VIGIL_PROBE_PATHS: "models" is not an absolute directory');
  });

  test("the settings: logs of the restartable units, files under the listed directories", () => {
    expect(probeSettingsFromEnv(["comfyui.service"], { VIGIL_PROBE_PATHS: "/srv/models" })).toEqual({
      logUnits: ["comfyui.service"],
      paths: ["/srv/models"],
    });
  });
});

describe("runProbe", () => {
  const settings: ProbeSettings = { logUnits: [], paths: [] };

  test("an answer for every outcome: found, or not ok with the reason", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "model.bin"), "m");
    const ok = await runProbe({ kind: "files", paths: [join(dir, "model.bin")] }, 1000, { ...settings, paths: [dir] });
    expect(ok).toEqual({
      ok: true,
      result: { files: [{ path: join(dir, "model.bin"), exists: true, type: "file", size: 1, mtime: expect.any(String) }] },
    });
    expect(await runProbe({ kind: "files", paths: ["/etc/shadow"] }, 1000, settings)).toEqual({
      ok: false,
      result: {},
      error: "path /etc/shadow is not under VIGIL_PROBE_PATHS (not set: this agent reads no files)",
    });
  });

  test("a probe the protocol does not know is refused with the field at fault", async () => {
    const unknown = await runProbe({ kind: "gpu-burn" } as unknown as WorkerProbeSpec, 1000, settings);
    expect(unknown).toMatchObject({ ok: false, error: expect.stringContaining('unknown probe kind "gpu-burn"') });
    const tooMany = await runProbe({ kind: "log", path: "/x", lines: 500 }, 1000, settings);
    expect(tooMany.error).toMatch(/^this agent cannot run the probe: \/lines: /);
  });

  test("a probe still running at the timeout is answered as such", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Bun.sleep(3000).then(() => new Response()) });
    cleanup.push(() => server.stop(true));
    const started = performance.now();
    const r = await runProbe({ kind: "http", url: `http://127.0.0.1:${server.port}/`, timeoutMs: 60_000 }, 300, settings);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/did not (answer|finish) within 0.3 s/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("at most so many probes at once; the next is refused, not queued", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Bun.sleep(300).then(() => new Response()) });
    cleanup.push(() => server.stop(true));
    const run = createProbeRunner(settings, 2);
    const probe: WorkerProbeSpec = { kind: "http", url: `http://127.0.0.1:${server.port}/`, timeoutMs: 5000 };
    const answers = await Promise.all([run(probe, 5000), run(probe, 5000), run(probe, 5000)]);
    expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
    expect(answers[2]!.error).toBe("this agent is already running 2 probes; try again later");
    expect((await run(probe, 5000)).ok).toBe(true);
  });
});

describe("the agent's socket", () => {
  /** A head that sends the given messages once the agent connects and collects what comes back. */
  async function fakeHead(toSend: unknown[]): Promise<{ server: Server<unknown>; received: unknown[] }> {
    const received: unknown[] = [];
    const server: Server<unknown> = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, srv) => (srv.upgrade(req, { data: undefined }) ? undefined : new Response("upgrade", { status: 400 })),
      websocket: {
        open(ws) {
          for (const m of toSend) ws.send(JSON.stringify(m));
        },
        message(_ws, raw) {
          const m = JSON.parse(String(raw)) as { type: string };
          if (m.type !== "batch") received.push(m);
        },
      },
    });
    cleanup.push(() => server.stop(true));
    return { server, received };
  }

  async function agentFor(server: Server<unknown>, stateDir: string, probeDir: string) {
    const head = `http://127.0.0.1:${server.port}`;
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "credential.json"), JSON.stringify({ head, workerId: 1, name: "w", secret: "vga_test", tokenHash: null }));
    let next = 0;
    const agent = await startPushAgent({
      head,
      stateDir,
      version: "0.1.0-test",
      intervalSeconds: 60,
      sample: async () => makeSample(next++),
      setNextSeq: (n) => (next = n),
      probe: createProbeRunner({ logUnits: [], paths: [probeDir] }),
      log: log.child({ test: "probe-socket" }),
    });
    cleanup.push(() => agent.stop());
    return agent;
  }

  test("a probe command is answered with a probe-result carrying its id, which the head's schema accepts", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "model.bin"), "weights");
    const { server, received } = await fakeHead([
      { type: "probe", id: "p-1", probe: { kind: "files", paths: [join(dir, "model.bin")] }, timeoutMs: 2000 },
      { type: "probe", id: "p-2", probe: { kind: "files", paths: ["/etc/shadow"] }, timeoutMs: 2000 },
    ]);
    await agentFor(server, join(tempDir(), "state"), dir);
    for (let i = 0; i < 100 && received.length < 2; i++) await Bun.sleep(20);
    // Checked first: Bun's toMatchObject below leaves its asymmetric matchers in the objects it looked at.
    for (const m of received) expect(parseAgentMessage(m).ok).toBe(true);
    const byId = new Map(received.map((m) => [(m as { id: string }).id, m]));
    expect(byId.get("p-1")).toMatchObject({ type: "probe-result", ok: true, result: { files: [{ exists: true, size: 7 }] } });
    expect(byId.get("p-2")).toMatchObject({ type: "probe-result", ok: false, error: expect.stringContaining("/etc/shadow is not under") });
  });

  test("a probe this agent's protocol does not accept is answered with the reason, not left to time out", async () => {
    const { server, received } = await fakeHead([
      { type: "probe", id: "p-new", probe: { kind: "gpu-burn", seconds: 5 }, timeoutMs: 2000 },
      { type: "probe", id: "p-big", probe: { kind: "log", path: "/x", lines: 5000 }, timeoutMs: 2000 },
      // Not a probe: only logged, as any message this agent does not know.
      { type: "rotate-keys", id: "k-1" },
    ]);
    await agentFor(server, join(tempDir(), "state"), tempDir());
    for (let i = 0; i < 100 && received.length < 2; i++) await Bun.sleep(20);
    await Bun.sleep(100);
    expect(received).toHaveLength(2);
    expect(received[0]).toEqual({
      type: "probe-result",
      id: "p-new",
      ok: false,
      result: {},
      error: expect.stringContaining('this agent (version 0.1.0-test) cannot run the probe: unknown probe kind "gpu-burn"'),
    });
    expect((received[1] as { error: string }).error).toMatch(/cannot run the probe: \/lines: /);
  });
});
