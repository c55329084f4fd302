// Alerts end to end: `vigil simulate --heat` holds a GPU above 85 °C; a real head fires once to a local webhook after `for`, and recovers once.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { AlertNotification } from "../../src/alerts/notification.ts";
import { webhookSignature } from "../../src/notifiers/webhook.ts";
import { freePort, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const FOR_SECONDS = 4;
const dataDir = tempDir("vigil-alerts-e2e-");
const received: { at: number; body: AlertNotification; signature: string | null; timestamp: string | null }[] = [];
const hook = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const text = await req.text();
    received.push({
      at: Date.now(),
      body: JSON.parse(text) as AlertNotification,
      signature: req.headers.get("x-vigil-signature"),
      timestamp: req.headers.get("x-vigil-timestamp"),
    });
    // Keep the raw text for the signature check.
    (received.at(-1) as { raw?: string }).raw = text;
    return new Response("ok");
  },
});
const procs: VigilProcess[] = [];
afterAll(async () => {
  for (const p of procs.splice(0)) await p.stop("SIGKILL").catch(() => {});
  hook.stop(true);
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

test("simulate drives a GPU over 85 °C: exactly one critical notification within 2 s of `for`, then exactly one recovery", async () => {
  const port = freePort();
  const env = { VIGIL_DATA_DIR: dataDir, VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8", VIGIL_ADMIN_PASSWORD: "alerts-e2e-admin-1" };
  const head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env, port });
  procs.push(head);
  await head.ready(60_000);
  const created = await runVigil(["token", "create", "--name", "alerts-e2e", "--role", "admin"], { VIGIL_DATA_DIR: dataDir });
  expect(created.code).toBe(0);
  const token = created.stdout.trim().split("\n").at(-1)!.trim();
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${head.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json()) as Record<string, unknown>;
    if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  // Critical only (no warning level): the simulated load's own warm GPUs cannot muddle the count.
  await api("POST", "/api/v1/thresholds", { metric: "temperature", warning: null, critical: 85, forSeconds: FOR_SECONDS, hysteresis: 3 });
  await api("POST", "/api/v1/channels", {
    name: "e2e-hook",
    kind: "webhook",
    config: { url: `http://127.0.0.1:${hook.port}/vigil`, secret: "e2e-secret" },
  });

  // sim-0001's GPU 0 at 92 °C from 3 s to 15 s after the simulator starts.
  const sim = spawnVigil({
    args: ["simulate", "--head", head.url, "--token", token, "--workers", "2", "--gpus", "2", "--interval", "1", "--heat", "1:0@3+12=92"],
    env: {},
    port,
  });
  procs.push(sim);

  const temperature = (r: (typeof received)[number]) => r.body.alert.rule === "threshold:temperature";
  const firing = await waitFor("the critical notification", 40_000, () =>
    received.find((r) => temperature(r) && r.body.event === "firing"),
  );
  expect(firing.body.severity).toBe("critical");
  expect(firing.body.alert.worker.name).toBe("sim-0001");
  expect(firing.body.alert.gpu?.index).toBe(0);
  expect(firing.body.alert.value).toBe(92);
  // Within 2 s of the moment the `for` duration ran out (the head's pending start + for).
  const due = Date.parse(firing.body.alert.startedAt) + FOR_SECONDS * 1000;
  expect(firing.at - due).toBeGreaterThanOrEqual(0);
  expect(firing.at - due).toBeLessThanOrEqual(2_000);
  const raw = (firing as { raw?: string }).raw!;
  expect(firing.signature).toBe(`sha256=${webhookSignature("e2e-secret", Number(firing.timestamp), raw)}`);

  const recovery = await waitFor("the recovery", 40_000, () => received.find((r) => temperature(r) && r.body.event === "resolved"));
  expect(recovery.body.alert.id).toBe(firing.body.alert.id);
  // A few more seconds of cool samples: nothing else about this GPU's temperature arrives.
  await Bun.sleep(3_000);
  expect(received.filter(temperature).map((r) => `${r.body.event}:${r.body.severity}`)).toEqual(["firing:critical", "resolved:critical"]);

  const history = (await api("GET", `/api/v1/alerts/${firing.body.alert.id}`)) as {
    deliveries: { status: string }[];
    alert: { state: string };
  };
  expect(history.alert.state).toBe("resolved");
  expect(history.deliveries.map((d) => d.status)).toEqual(["delivered", "delivered"]);
  expect(await sim.stop()).toBe(0);
  expect(await head.stop()).toBe(0);
}, 120_000);
