// Real head and real agent processes on loopback: enrollment, zero loss across a head outage, an agent killed mid-write, restarts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { sharedPostgres } from "../harness/postgres.ts";
import { freePort, REPO, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const NO_GPU = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
const INTERVAL = 0.25;

const procs: VigilProcess[] = [];
const dirs: string[] = [];
let databaseUrl = "";
let db: pg.Pool;

beforeAll(async () => {
  databaseUrl = await (await sharedPostgres()).createDatabase("agents");
  db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
}, 60_000);

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  await db.end();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir("vigil-agents-");
  dirs.push(d);
  return d;
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(200);
  }
}

const headEnv = () => ({ DATABASE_URL: databaseUrl, VIGIL_DATA_DIR: dir(), ...NO_GPU });

function startHead(port: number): VigilProcess {
  const p = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env: headEnv(), port });
  procs.push(p);
  return p;
}

async function addWorker(name: string): Promise<string> {
  const r = await runVigil(["worker", "add", name], { DATABASE_URL: databaseUrl });
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

function startAgent(port: number, stateDir: string, token: string, extraEnv: Record<string, string> = {}): VigilProcess {
  const p = spawnVigil({
    args: ["agent", "--head", `http://127.0.0.1:${port}`, "--token", token, "--interval", String(INTERVAL)],
    env: { VIGIL_AGENT_DIR: stateDir, ...NO_GPU, ...extraEnv },
    port,
  });
  procs.push(p);
  return p;
}

/** Per worker: how many samples are stored, how many distinct seqs, the highest seq. */
async function stored(name: string): Promise<{ n: number; distinct: number; max: number; seqs: number[] }> {
  const r = await db.query<{ seq: string }>(
    "select h.seq::text as seq from host_samples h join workers w on w.id = h.worker_id where w.name = $1 order by h.seq",
    [name],
  );
  const seqs = r.rows.map((x) => Number(x.seq));
  return { n: seqs.length, distinct: new Set(seqs).size, max: seqs.length ? Math.max(...seqs) : -1, seqs };
}

describe("agents and head over the real protocol", () => {
  test("a 30 s head outage loses nothing: every sequence number of every agent is stored exactly once", async () => {
    const port = freePort();
    let head = startHead(port);
    await head.ready(60_000);
    const names = ["w-outage-1", "w-outage-2", "w-outage-3"];
    const agents = [];
    for (const name of names) agents.push(startAgent(port, dir(), await addWorker(name)));
    await waitFor("samples from every agent", async () => (await Promise.all(names.map(stored))).every((s) => s.n > 3), 30_000);

    expect(await head.stop("SIGKILL")).not.toBe(0);
    await Bun.sleep(30_000);
    const before = await Promise.all(names.map(stored));
    head = startHead(port);
    await head.ready(60_000);
    // Backlog replays while live samples keep coming; wait until each agent's spool is drained.
    await waitFor(
      "the backlog to be stored",
      async () => (await Promise.all(names.map(stored))).every((s, i) => s.max > before[i]!.max + 30 / INTERVAL && s.n === s.max + 1),
      90_000,
    );
    for (const a of agents) expect(await a.stop("SIGTERM")).toBe(0);
    for (const name of names) {
      const s = await stored(name);
      expect(s.distinct).toBe(s.n); // stored once
      expect(s.n).toBe(s.max + 1); // nothing missing: seqs 0..max all there
      expect(s.seqs[0]).toBe(0);
    }
    expect(await head.stop("SIGTERM")).toBe(0);
  }, 240_000);

  test("an agent killed mid-write comes back, losing at most the last second", async () => {
    const port = freePort();
    const head = startHead(port);
    await head.ready(60_000);
    const name = "w-killed";
    const state = dir();
    const token = await addWorker(name);
    let agent = startAgent(port, state, token);
    await waitFor("samples", async () => (await stored(name)).n > 8, 30_000);
    await agent.stop("SIGKILL");
    const atKill = (await stored(name)).max;
    agent = startAgent(port, state, token); // same state dir: same credential and spool; the token is not used again
    await waitFor("samples after the restart", async () => (await stored(name)).max > atKill + 8, 30_000);
    expect(agent.stderr()).not.toContain("enrolled with the head");
    expect(await agent.stop("SIGTERM")).toBe(0);
    const s = await stored(name);
    expect(s.distinct).toBe(s.n);
    const missing = s.max + 1 - s.n;
    expect(missing).toBeLessThanOrEqual(Math.ceil(1 / INTERVAL));
    expect(await head.stop()).toBe(0);
  }, 120_000);

  test("a spool filled past its bound while the head is away keeps the newest samples and counts exactly what it dropped", async () => {
    const port = freePort();
    let head = startHead(port);
    await head.ready(60_000);
    const name = "w-spool-bound";
    const agent = startAgent(port, dir(), await addWorker(name), { VIGIL_SPOOL_MAX: "16KB" });
    await waitFor("samples", async () => (await stored(name)).n > 4, 30_000);
    await head.stop("SIGKILL");
    await Bun.sleep(12_000); // about 48 samples of 0.9-1.5 KB: three times what 16 KB of spool holds
    head = startHead(port);
    await head.ready(60_000);
    const reconnect = () =>
      agent
        .stderr()
        .split("\n")
        .filter((l) => l.includes('"connected to the head"'))
        .map((l) => JSON.parse(l).context as { droppedBySpoolLimits: number })[1];
    await waitFor("the agent to reconnect", async () => reconnect() !== undefined, 60_000);
    const dropped = reconnect()!.droppedBySpoolLimits;
    expect(dropped).toBeGreaterThan(0);
    // Let the backlog and a few live samples land, then count the holes below the live edge.
    const atReconnect = (await stored(name)).max;
    await waitFor("the backlog", async () => (await stored(name)).max > atReconnect + 12, 30_000);
    const s = await stored(name);
    const edge = s.max - 8;
    const present = new Set(s.seqs);
    let missing = 0;
    for (let q = 0; q <= edge; q++) if (!present.has(q)) missing++;
    expect(missing).toBe(dropped);
    expect(s.distinct).toBe(s.n);
    expect(await agent.stop()).toBe(0);
    expect(await head.stop()).toBe(0);
  }, 120_000);

  test("restarts: an allowed unit is restarted through systemctl; anything else is refused and never reaches it", async () => {
    const port = freePort();
    const head = startHead(port);
    await head.ready(60_000);
    const name = "w-restart";
    const log = join(dir(), "systemctl.log");
    const agent = startAgent(port, dir(), await addWorker(name), {
      VIGIL_RESTART_ALLOW: "comfyui.service",
      PATH: `${join(REPO, "test/fake-systemctl")}:${process.env.PATH}`,
      FAKE_SYSTEMCTL_LOG: log,
    });
    await waitFor("the agent to connect", async () => (await stored(name)).n > 1, 30_000);
    const token = (
      await runVigil(["token", "create", "--name", "restarts", "--role", "admin"], { DATABASE_URL: databaseUrl })
    ).stdout.trim();
    const workerId = (await db.query<{ id: number }>("select id from workers where name = $1", [name])).rows[0]!.id;
    // The head knows what the agent's allow-list permits (for the restart dialog and the API).
    const detail = await (await fetch(`${head.url}/api/v1/workers/${name}`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(detail.services).toEqual(["comfyui.service"]);
    const restart = (service: string, force = true) =>
      fetch(`${head.url}/api/v1/workers/${workerId}/restart`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ service, reason: "e2e", force }),
      });
    // The head refuses what is not a unit name at all.
    for (const bad of ["x;id", "../x", "--help", "a b.service"]) {
      const r = await restart(bad);
      expect(r.status).toBe(400);
    }
    // A unit name not on the agent's list goes to the agent, which refuses it.
    const other = await restart("sshd.service");
    expect(other.status).toBe(202);
    const ok = await restart("comfyui.service");
    expect(ok.status).toBe(202);
    const okId = (await ok.json()).restart.id;
    const otherId = (await other.json()).restart.id;
    const state = async (id: number) =>
      (await db.query<{ state: string; events: { state: string }[] }>("select state, events from restarts where id = $1", [id])).rows[0]!;
    await waitFor("the restart to complete", async () => (await state(okId)).state === "completed", 30_000);
    await waitFor("the refusal", async () => (await state(otherId)).state === "refused", 30_000);
    expect((await state(okId)).events.map((e) => e.state)).toEqual(["initiated", "restarting", "completed"]);
    // Exactly one call reached systemctl, for the allowed unit, as an argv array.
    const calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(calls).toEqual([["restart", "--", "comfyui.service"]]);
    expect(await agent.stop()).toBe(0);
    expect(await head.stop()).toBe(0);
  }, 120_000);
});
