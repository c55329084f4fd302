// Service health end to end: a real head checks a local HTTP service; stopping it turns it down within one interval, the webhook hears one "down" after the escalation delay and one recovery, and the gate goes 503 then 200.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { freePort, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { startWebhookSink } from "../harness/webhook.ts";

const INTERVAL = 5;
const ESCALATION = 3;
const dataDir = tempDir("vigil-health-e2e-");
const hook = startWebhookSink();
const received = hook.received;
// The service under watch: a health endpoint that can be stopped and started again on the same port.
const servicePort = freePort();
const startService = () => Bun.serve({ port: servicePort, hostname: "127.0.0.1", fetch: () => Response.json({ status: "ok" }) });
let service: ReturnType<typeof startService> | null = startService();
const procs: VigilProcess[] = [];
afterAll(async () => {
  for (const p of procs.splice(0)) await p.stop("SIGKILL").catch(() => {});
  hook.stop();
  service?.stop(true);
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

test("stopping a checked HTTP service: down within one interval, one 'down' after the escalation delay, one recovery, the gate 503 then 200", async () => {
  const port = freePort();
  const env = { VIGIL_DATA_DIR: dataDir, VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8", VIGIL_ADMIN_PASSWORD: "health-e2e-admin-1" };
  // The embedded agent keeps this machine online: the checklist wants a worker.
  const head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`], env, port });
  procs.push(head);
  await head.ready(60_000);
  const token = (await runVigil(["token", "create", "--name", "health-e2e", "--role", "admin"], { VIGIL_DATA_DIR: dataDir })).stdout
    .trim()
    .split("\n")
    .at(-1)!;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${head.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  expect((await api("POST", "/api/v1/channels", { name: "ops", kind: "webhook", config: { url: hook.url("/in") } })).status).toBe(201);
  const created = await api("POST", "/api/v1/services", {
    name: "model-server",
    kind: "http",
    config: { url: `http://127.0.0.1:${servicePort}/health`, keyword: "ok" },
    intervalSeconds: INTERVAL,
    timeoutSeconds: 2,
    critical: true,
    escalationSeconds: ESCALATION,
  });
  expect(created.status).toBe(201);
  const id = created.body.service.id as number;
  const ready = async () => {
    const r = await fetch(`${head.url}/api/v1/ready`);
    return { status: r.status, body: (await r.json()) as { ready: boolean; failing?: string[] } };
  };
  await waitFor("the gate to open", 30_000, async () => ((await ready()).status === 200 ? true : undefined));

  service!.stop(true);
  service = null;
  const stoppedAt = Date.now();
  const downAt = await waitFor("the service to be seen down", (INTERVAL + 3) * 1000, async () => {
    const s = await api("GET", `/api/v1/services/${id}`);
    return s.body.service.latest?.status === "down" ? Date.now() : undefined;
  });
  // Within one interval (and the check's own timeout) of going away.
  expect(downAt - stoppedAt).toBeLessThanOrEqual((INTERVAL + 2) * 1000 + 500);
  const gate = await ready();
  expect(gate).toEqual({ status: 503, body: { ready: false, failing: ["service:model-server"] } });
  // The dashboard knows at once; channels only after the escalation delay.
  expect(received.filter((r) => r.body.alert.rule === "health:service")).toEqual([]);
  const down = await waitFor("the 'down' notification", 20_000, () =>
    received.find((r) => r.body.alert.rule === "health:service" && r.body.event === "firing"),
  );
  expect(down.body.title).toStartWith("CRITICAL model-server: down");
  expect(down.at - stoppedAt).toBeGreaterThanOrEqual(ESCALATION * 1000);

  // `vigil doctor` asks the running head (through its admin socket) and agrees with the gate.
  const doctor = await runVigil(["doctor"], { VIGIL_DATA_DIR: dataDir });
  expect(doctor.code).toBe(1);
  expect(doctor.stdout).toContain("NOT READY: service:model-server");

  service = startService();
  await waitFor("the recovery notification", (INTERVAL + 10) * 1000, () =>
    received.find((r) => r.body.alert.rule === "health:service" && r.body.event === "resolved"),
  );
  await waitFor("the gate to open again", 10_000, async () => ((await ready()).status === 200 ? true : undefined));
  await Bun.sleep(1_000);
  expect(received.filter((r) => r.body.alert.rule === "health:service").map((r) => `${r.body.event}:${r.body.severity}`)).toEqual([
    "firing:critical",
    "resolved:critical",
  ]);
  const detail = await api("GET", `/api/v1/services/${id}?days=1`);
  expect(detail.body.incidents.map((i: { status: string }) => i.status)).toEqual(["down"]);
  expect(detail.body.uptime["7d"].percent).toBeLessThan(100);
  expect(await head.stop()).toBe(0);
}, 120_000);
