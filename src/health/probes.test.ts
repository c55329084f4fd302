// Checks the head's probe router: matched answers, timeouts, agents not connected, answers from the wrong worker, the local runner.
import { describe, expect, test } from "bun:test";
import type { WorkerProbe } from "../checks/checker.ts";
import { AgentSessions, type AgentConnection } from "../ingest/sessions.ts";
import type { HeadMessage, ProbeCommand } from "../protocol/messages.ts";
import { probeRouterOf, ProbeRouter } from "./probes.ts";

/** An agent connection that keeps what the head sends it. */
function connect(sessions: AgentSessions, workerId: number): HeadMessage[] {
  const sent: HeadMessage[] = [];
  const conn: AgentConnection = {
    workerId,
    name: `gpu-${workerId}`,
    version: "0.1.0",
    connectedAt: new Date(),
    send: (m) => sent.push(m),
    close: () => {},
  };
  sessions.add(conn);
  return sent;
}

const UNIT: WorkerProbe = { kind: "unit", unit: "comfyui.service" };
const RUNNING = {
  unit: "comfyui.service",
  loadState: "loaded",
  activeState: "active",
  subState: "running",
  unitFileState: "enabled",
  activeEnterTimestamp: null,
  activeSince: null,
};

function setup(opts: { transitMs?: number } = {}) {
  const sessions = new AgentSessions();
  const router = new ProbeRouter(sessions, opts);
  return { sessions, router };
}

describe("ProbeRouter", () => {
  test("sends the probe down the worker's socket and resolves with the matching answer", async () => {
    const { sessions, router } = setup();
    const sent = connect(sessions, 7);
    const answer = router.run(7, UNIT, 10_000);
    expect(sent).toHaveLength(1);
    const cmd = sent[0] as ProbeCommand;
    expect(cmd).toMatchObject({ type: "probe", probe: UNIT, timeoutMs: 10_000 });
    expect(cmd.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(router.inFlight).toBe(1);
    expect(router.resolve(7, { id: cmd.id, ok: true, result: RUNNING })).toBe(true);
    expect(await answer).toEqual({ ok: true, result: RUNNING });
    expect(router.inFlight).toBe(0);
    // Settled once: the same answer again matches nothing.
    expect(router.resolve(7, { id: cmd.id, ok: true, result: RUNNING })).toBe(false);
  });

  test("a failed probe is an answer, with the agent's reason", async () => {
    const { sessions, router } = setup();
    const sent = connect(sessions, 7);
    const answer = router.run(7, { kind: "files", paths: ["/etc/shadow"] }, 5000);
    const error = "path /etc/shadow is not under VIGIL_PROBE_PATHS (/srv/models)";
    router.resolve(7, { id: (sent[0] as ProbeCommand).id, ok: false, result: {}, error });
    expect(await answer).toEqual({ ok: false, result: {}, error });
  });

  test("concurrent probes each get their own answer, in whatever order they come", async () => {
    const { sessions, router } = setup();
    const sent = connect(sessions, 7);
    const a = router.run(7, UNIT, 5000);
    const b = router.run(7, { kind: "tcp", host: "127.0.0.1", port: 8188, timeoutMs: 1000 }, 5000);
    const [ca, cb] = sent as ProbeCommand[];
    expect(ca!.id).not.toBe(cb!.id);
    router.resolve(7, { id: cb!.id, ok: true, result: { host: "127.0.0.1", port: 8188, latencyMs: 0.4 } });
    router.resolve(7, { id: ca!.id, ok: true, result: RUNNING });
    expect((await a).result).toEqual(RUNNING);
    expect((await b).result).toEqual({ host: "127.0.0.1", port: 8188, latencyMs: 0.4 });
  });

  test("an answer from another worker's agent is ignored: it cannot answer for worker 7", async () => {
    const { sessions, router } = setup({ transitMs: 0 });
    const sent = connect(sessions, 7);
    connect(sessions, 8);
    const answer = router.run(7, UNIT, 200);
    const id = (sent[0] as ProbeCommand).id;
    expect(router.resolve(8, { id, ok: true, result: RUNNING })).toBe(false);
    expect(router.resolve(7, { id: "not-an-id-we-sent", ok: true, result: RUNNING })).toBe(false);
    await expect(answer).rejects.toThrow("worker 7's agent did not answer the unit probe within 0.2 s");
  });

  test("no answer: rejected after the timeout and the transit allowance, with a clear message", async () => {
    const { sessions, router } = setup({ transitMs: 100 });
    connect(sessions, 7);
    const started = performance.now();
    await expect(router.run(7, UNIT, 200)).rejects.toThrow("worker 7's agent did not answer the unit probe within 0.2 s");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(router.inFlight).toBe(0);
  });

  test("rejected at once when the worker's agent is not connected to this head", async () => {
    const { router } = setup();
    await expect(router.run(7, UNIT, 10_000)).rejects.toThrow("worker 7's agent is not connected to this head");
    expect(router.inFlight).toBe(0);
  });

  test("a socket that throws on send counts as not connected", async () => {
    const { sessions, router } = setup();
    sessions.add({
      workerId: 7,
      name: "gpu-7",
      version: null,
      connectedAt: new Date(),
      send: () => {
        throw new Error("socket closed");
      },
      close: () => {},
    });
    await expect(router.run(7, UNIT, 10_000)).rejects.toThrow("worker 7's agent is not connected to this head");
    expect(router.inFlight).toBe(0);
  });

  test("a malformed probe is refused before it is sent", async () => {
    const { sessions, router } = setup();
    const sent = connect(sessions, 7);
    await expect(router.run(7, { kind: "log", unit: "comfyui.service", lines: 1000 }, 5000)).rejects.toThrow(
      /^the log probe for worker 7 is malformed: \/lines: /,
    );
    await expect(router.run(7, { kind: "files", paths: [] }, 5000)).rejects.toThrow(/files probe .* malformed: \/paths/);
    await expect(router.run(7, UNIT, 0)).rejects.toThrow(/malformed: its timeout is 0 ms/);
    expect(sent).toEqual([]);
  });

  test("an ok answer that does not fit the kind asked becomes a failed answer: a log of 101 lines, a unit without state", async () => {
    const { sessions, router } = setup();
    const sent = connect(sessions, 7);
    const log = router.run(7, { kind: "log", unit: "comfyui.service", lines: 100 }, 5000);
    const lines = Array.from({ length: 101 }, (_, i) => `line ${i}`);
    router.resolve(7, { id: (sent[0] as ProbeCommand).id, ok: true, result: { source: "comfyui.service", lines } });
    expect(await log).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^the agent's answer to the log probe is malformed: \/lines/),
    });
    const unit = router.run(7, UNIT, 5000);
    router.resolve(7, { id: (sent[1] as ProbeCommand).id, ok: true, result: { unit: "comfyui.service" } });
    expect(await unit).toMatchObject({ ok: false, error: expect.stringContaining("unit probe is malformed") });
  });

  test("the local runner answers for the head's own worker, without a socket", async () => {
    const { sessions, router } = setup();
    const asked: [WorkerProbe, number][] = [];
    router.setLocal(1, async (probe, timeoutMs) => {
      asked.push([probe, timeoutMs]);
      return { ok: true, result: RUNNING };
    });
    expect(await router.run(1, UNIT, 3000)).toEqual({ ok: true, result: RUNNING });
    expect(asked).toEqual([[UNIT, 3000]]);
    expect(sessions.connected(1)).toBe(false);
  });

  test("a local runner that hangs is given up on like a silent agent", async () => {
    const { router } = setup({ transitMs: 0 });
    router.setLocal(1, () => new Promise(() => {}));
    await expect(router.run(1, UNIT, 200)).rejects.toThrow("worker 1's local agent did not answer the unit probe within 0.2 s");
  });

  test("close gives up on probes in flight", async () => {
    const { sessions, router } = setup();
    connect(sessions, 7);
    const answer = router.run(7, UNIT, 60_000);
    router.close();
    expect(await answer).toEqual({ ok: false, result: {}, error: "the head is stopping" });
  });

  test("one router per set of sessions, found by the agents route through probeRouterOf", () => {
    const { sessions, router } = setup();
    expect(probeRouterOf(sessions)).toBe(router);
    expect(probeRouterOf(new AgentSessions())).toBeUndefined();
    expect(() => new ProbeRouter(sessions)).toThrow("these agent sessions already have a probe router");
  });
});
