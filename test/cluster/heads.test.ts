// Three real heads on one real PostgreSQL: one leads the loops, live updates and restarts cross heads, alerts notify once, a killed leader is replaced.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { EXAMPLE_SAMPLE } from "../../src/routes/openapi.ts";
import { sharedPostgres } from "../harness/postgres.ts";
import { freePort, REPO, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { SseReader } from "../live/sse-reader.ts";
import { startWebhookSink } from "../harness/webhook.ts";

const NO_GPU = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
const FOR_SECONDS = 3;
const LOOPS = ["alerts", "deliveries", "retention", "health"];

const procs: VigilProcess[] = [];
const dirs: string[] = [];
let databaseUrl = "";
let db: pg.Pool;
const hook = startWebhookSink();
const received = hook.received;

beforeAll(async () => {
  databaseUrl = await (await sharedPostgres()).createDatabase("cluster");
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
}, 60_000);

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL").catch(() => {});
  await db?.end();
  hook.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir("vigil-cluster-");
  dirs.push(d);
  return d;
}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

function startHead(name: string): VigilProcess {
  const port = freePort();
  const p = spawnVigil({
    args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"],
    env: {
      DATABASE_URL: databaseUrl,
      VIGIL_DATA_DIR: dir(),
      VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8",
      VIGIL_ADMIN_PASSWORD: "cluster-admin-pass-1",
      VIGIL_METRICS_PUBLIC: "true",
      ...NO_GPU,
    },
    port,
  });
  (p as VigilProcess & { name: string }).name = name;
  procs.push(p);
  return p;
}

/** The loops a head said it leads (its log lines), and when it said so last. */
function ledBy(head: VigilProcess): string[] {
  const loops: string[] = [];
  for (const line of head.stderr().split("\n")) {
    if (!line.includes('"leading loop"')) continue;
    loops.push((JSON.parse(line) as { context: { loop: string } }).context.loop);
  }
  return loops;
}

test("three heads share one PostgreSQL: loops on one, live updates and restarts across heads, one notification per alert, a killed leader replaced", async () => {
  // A first, so it takes every loop; then B and C as standbys.
  const a = startHead("a");
  await a.ready(60_000);
  const b = startHead("b");
  const c = startHead("c");
  await Promise.all([b.ready(60_000), c.ready(60_000)]);
  await waitFor("head A to lead every loop", 5_000, () => LOOPS.every((l) => ledBy(a).includes(l))).catch((e) => {
    console.log(a.stderr().slice(0, 3000));
    throw e;
  });
  expect(ledBy(b)).toEqual([]);
  expect(ledBy(c)).toEqual([]);

  const token = (await runVigil(["token", "create", "--name", "cluster", "--role", "admin"], { DATABASE_URL: databaseUrl })).stdout
    .trim()
    .split("\n")
    .at(-1)!
    .trim();
  const api = async (head: VigilProcess, method: string, path: string, body?: unknown, bearer = token) => {
    const r = await fetch(`${head.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json().catch(() => ({}))) as Record<string, any>;
    if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  // Rules and channels changed on B: the engine leading on A must hear of them.
  await api(b, "POST", "/api/v1/thresholds", {
    metric: "temperature",
    warning: null,
    critical: 85,
    forSeconds: FOR_SECONDS,
    hysteresis: 3,
  });
  await api(b, "POST", "/api/v1/channels", {
    name: "cluster-hook",
    kind: "webhook",
    config: { url: hook.url("/vigil") },
  });

  // A real agent on C (with a fake systemctl), simulated workers on B, one GPU of sim-0001 at 92 °C from 3 s for 8 s.
  const enrollment = await runVigil(["worker", "add", "w-c"], { DATABASE_URL: databaseUrl });
  expect(enrollment.code).toBe(0);
  const systemctlLog = join(dir(), "systemctl.log");
  // A log on the worker, long enough that its relayed answer is bigger than one NOTIFY payload.
  const probePaths = dir();
  const logLines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(100)}`);
  writeFileSync(join(probePaths, "model.log"), logLines.join("\n") + "\n");
  const agent = spawnVigil({
    args: ["agent", "--head", c.url, "--token", enrollment.stdout.trim(), "--interval", "0.25"],
    env: {
      VIGIL_AGENT_DIR: dir(),
      VIGIL_RESTART_ALLOW: "comfyui.service",
      PATH: `${join(REPO, "test/fake-systemctl")}:${process.env.PATH}`,
      FAKE_SYSTEMCTL_LOG: systemctlLog,
      VIGIL_PROBE_PATHS: probePaths,
      ...NO_GPU,
    },
    port: 0,
  });
  procs.push(agent);
  const sim = spawnVigil({
    args: ["simulate", "--head", b.url, "--token", token, "--workers", "2", "--gpus", "2", "--interval", "1", "--heat", "1:0@3+8=92"],
    env: {},
    port: 0,
  });
  procs.push(sim);

  // Live: a worker pushing to B, watched from C. Each new temperature must be on C's stream within 2 s.
  const marker = await api(b, "POST", "/api/v1/workers", { name: "marker" });
  const secret = (await (
    await fetch(`${b.url}/api/v1/agent/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: marker.enrollmentToken, hostname: "marker" }),
    })
  ).json()) as { workerId: number; secret: string };
  let seq = 0;
  const push = async (head: VigilProcess, temperature: number) => {
    const gpu = { ...EXAMPLE_SAMPLE.gpus[0]!, temperature };
    const sample = { ...EXAMPLE_SAMPLE, seq: seq++, ts: new Date().toISOString(), gpus: [gpu] };
    const r = await api(head, "POST", "/api/v1/ingest", { samples: [sample] }, secret.secret);
    expect(r.acked).toEqual([sample.seq]);
  };
  await push(b, 40);
  // A browser's session on C (pages take a session, not a token).
  const signIn = await fetch(`${c.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: c.url },
    body: new URLSearchParams({ name: "admin", password: "cluster-admin-pass-1", next: "/" }),
  });
  expect(signIn.status).toBe(303);
  const cookie = signIn.headers.getSetCookie()[0]!.split(";")[0]!;
  const res = await fetch(`${c.url}/events?view=${encodeURIComponent(`worker:${secret.workerId}`)}`, {
    headers: { cookie, accept: "text/event-stream" },
  });
  expect(res.status).toBe(200);
  const stream = new SseReader(res.body!);
  // The stream's first render warms up before changes are sent.
  await Bun.sleep(1_000);
  expect(stream.done).toBe(false);
  const latencies: number[] = [];
  for (const t of [61, 62, 63]) {
    stream.drain();
    const sent = performance.now();
    await push(b, t);
    const m = await waitFor(`${t} °C on head C's stream`, 5_000, () => stream.drain().find((x) => x.data.includes(`${t} °C`)));
    latencies.push(m.at - sent);
  }
  await stream.cancel();
  console.log(`cross-head live latency (push on B -> SSE on C): ${latencies.map((l) => Math.round(l)).join(", ")} ms`);
  expect(Math.max(...latencies)).toBeLessThan(2_000);

  // A restart asked on B reaches the agent whose socket C holds.
  const wc = await waitFor("w-c online", 30_000, async () => {
    const r = await db.query<{ id: number; n: number }>(
      "select w.id, (select count(*)::int from host_samples h where h.worker_id = w.id) as n from workers w where name = 'w-c'",
    );
    return r.rows[0] && r.rows[0].n > 2 ? r.rows[0] : undefined;
  });
  // B knows the agent is connected (to C): its pages offer the restart.
  await waitFor(
    "B to see w-c connected",
    5_000,
    async () => (await api(b, "GET", "/api/v1/workers/w-c")).connected === true || undefined,
    100,
  );
  const restart = await api(b, "POST", `/api/v1/workers/${wc.id}/restart`, { service: "comfyui.service", reason: "cluster", force: true });
  const restartId = restart.restart.id as number;
  await waitFor("the restart to complete", 15_000, async () => {
    const r = await db.query<{ state: string }>("select state from restarts where id = $1", [restartId]);
    return r.rows[0]?.state === "completed" || undefined;
  });
  expect(
    readFileSync(systemctlLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l)),
  ).toEqual([["restart", "--", "comfyui.service"]]);

  // Probes reach the agent through the head holding its socket: a service on w-c, created on B, checked by the
  // leader A (its unit probe), its log read through B (an answer of about 30 kB, carried back in pieces).
  const svc = await api(b, "POST", "/api/v1/services", {
    name: "comfy",
    kind: "unit",
    config: { unit: "comfyui.service" },
    workerId: wc.id,
    logSource: join(probePaths, "model.log"),
    intervalSeconds: 5,
    timeoutSeconds: 2,
  });
  const serviceId = svc.service.id as number;
  const checked = await waitFor(
    "the unit check, seen from B",
    15_000,
    async () => (await api(b, "GET", `/api/v1/services/${serviceId}`)).service.latest ?? undefined,
    200,
  );
  expect(checked.message).not.toContain("not connected");
  const log = await api(b, "GET", `/api/v1/services/${serviceId}/log`);
  expect(log.lines).toEqual(logLines.slice(-100));

  // The alert fires and recovers once, whichever head leads: samples went to B, the engine and delivery run on A.
  const temperature = (r: (typeof received)[number], worker: string) =>
    r.body.alert.rule === "threshold:temperature" && r.body.alert.worker?.name === worker;
  await waitFor("sim-0001's recovery", 40_000, () => received.find((r) => temperature(r, "sim-0001") && r.body.event === "resolved"), 200);
  await Bun.sleep(1_500);
  expect(received.filter((r) => temperature(r, "sim-0001")).map((r) => `${r.body.event}:${r.body.severity}`)).toEqual([
    "firing:critical",
    "resolved:critical",
  ]);

  // Kill the leader: a standby takes every loop within one retry (1 s) of the server dropping its session.
  const killedAt = Date.now();
  await a.stop("SIGKILL");
  const next = await waitFor("another head to lead the alerts", 10_000, () => [b, c].find((h) => ledBy(h).includes("alerts")));
  const takeoverMs = Date.now() - killedAt;
  await waitFor("every loop to be led again", 5_000, () => LOOPS.every((l) => ledBy(b).includes(l) || ledBy(c).includes(l)));
  console.log(`takeover after SIGKILL of the leader: ${takeoverMs} ms (by head ${(next as { name?: string }).name})`);
  expect(takeoverMs).toBeLessThan(2_500);
  // Each loop on exactly one head.
  for (const l of LOOPS) expect(Number(ledBy(b).includes(l)) + Number(ledBy(c).includes(l))).toBe(1);
  // /metrics says the same: summed over the heads still running, one leader per loop.
  const leaders = async (h: VigilProcess) => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^vigil_loop_leader\{loop="(\w+)"\} (\d)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  };
  const [mb, mc] = await Promise.all([leaders(b), leaders(c)]);
  for (const l of LOOPS) expect((mb[l] ?? 0) + (mc[l] ?? 0)).toBe(1);

  // The new leader evaluates and notifies: the marker worker, pushing to C, runs hot.
  const hotUntil = Date.now() + (FOR_SECONDS + 3) * 1000;
  while (Date.now() < hotUntil) {
    await push(c, 93);
    await Bun.sleep(250);
  }
  await waitFor(
    "the marker's notification",
    10_000,
    () => received.find((r) => temperature(r, "marker") && r.body.event === "firing"),
    200,
  );
  await Bun.sleep(1_500);
  expect(received.filter((r) => temperature(r, "marker")).map((r) => r.body.event)).toEqual(["firing"]);
  // Once per alert in the queue as well: every delivery row delivered once, none left queued.
  const rows = await db.query<{ status: string; n: number }>("select status, count(*)::int as n from deliveries group by status");
  expect(rows.rows.find((r) => r.status === "queued")).toBeUndefined();
  const delivered = rows.rows.find((r) => r.status === "delivered")?.n ?? 0;
  expect(delivered).toBe(received.length);

  // No sample lost or stored twice: each worker's sequence numbers are contiguous and unique.
  expect(await sim.stop()).toBe(0);
  expect(await agent.stop()).toBe(0);
  const counts = await db.query<{ name: string; n: number; distinct_seqs: number; span: number }>(
    `select w.name, count(*)::int as n, count(distinct h.seq)::int as distinct_seqs, (max(h.seq) - min(h.seq) + 1)::int as span
         from host_samples h join workers w on w.id = h.worker_id group by w.name order by w.name`,
  );
  for (const r of counts.rows) {
    expect({ name: r.name, n: r.n, distinct: r.distinct_seqs }).toEqual({ name: r.name, n: r.span, distinct: r.span });
  }
  expect(counts.rows.map((r) => r.name)).toEqual(["marker", "sim-0001", "sim-0002", "w-c"]);
  expect(await b.stop()).toBe(0);
  expect(await c.stop()).toBe(0);
}, 120_000);
