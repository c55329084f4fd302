// The real program end to end, on each engine: serve, see this machine, stop cleanly, restart and find the history.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { sharedPostgres } from "../harness/postgres.ts";
import { freePort, getJson, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import type { Engine } from "../../src/db/client.ts";

interface Current {
  workers: {
    id: number;
    name: string;
    status: string;
    sample: { seq: number; ts: string; host: { memoryTotal: number; load: number[] } } | null;
  }[];
}

const running: VigilProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of running) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

for (const engine of ["pglite", "postgres"] as Engine[]) {
  describe(`vigil serve [${engine}]`, () => {
    test("serves this machine's samples, stops on SIGTERM with exit 0, and keeps them across a restart", async () => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const env: Record<string, string> = { VIGIL_DATA_DIR: dataDir, VIGIL_WORKER_NAME: "e2e-local" };
      if (engine === "postgres") env.DATABASE_URL = await (await sharedPostgres()).createDatabase("e2e");
      const port = freePort();
      const first = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`], env, port });
      running.push(first);
      await first.ready(60_000);

      const health = await getJson(`${first.url}/healthz`);
      expect(health).toMatchObject({ status: "ok", database: { engine, ok: true } });

      // Locked by default; a token made with the CLI while the head runs (through its admin socket on PGlite) opens the API.
      expect((await fetch(`${first.url}/api/v1/metrics/current`)).status).toBe(401);
      const created = await runVigil(["token", "create", "--name", "e2e", "--role", "viewer"], env);
      expect(created.stderr).toContain("created viewer token");
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(token).toStartWith("vgl_");

      // A fresh sample of the local worker within 5 s of the head answering.
      const startedAt = Date.now();
      const fresh = await waitFor(
        "a fresh local sample",
        async () => {
          const cur = await getJson<Current>(`${first.url}/api/v1/metrics/current`, token);
          const w = cur.workers.find((x) => x.name === "e2e-local");
          return w?.sample && Date.parse(w.sample.ts) >= startedAt - 1500 ? w : undefined;
        },
        5_000,
      );
      expect(fresh.status).toBe("online");
      expect(fresh.sample!.host.memoryTotal).toBeGreaterThan(0);
      expect(fresh.sample!.host.load).toHaveLength(3);
      const workers = await getJson(`${first.url}/api/v1/workers`, token);
      expect(workers.workers).toEqual([expect.objectContaining({ name: "e2e-local", kind: "local", status: "online" })]);
      // The first start created admin and printed its one-time password; it signs in and sees the page.
      const password = /password: (\S+)/.exec(first.stdout())?.[1];
      expect(password).toBeDefined();
      expect(first.stderr()).toContain("created the first user with a one-time password");
      const signIn = await fetch(`${first.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: first.url },
        body: new URLSearchParams({ name: "admin", password: password!, next: "/" }),
      });
      expect(signIn.status).toBe(303);
      const cookie = signIn.headers.getSetCookie()[0]!.split(";")[0]!;
      const page = await fetch(`${first.url}/`, { headers: { cookie } });
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(await page.text()).toContain("e2e-local");

      // Let a few more samples land, then stop: pending writes are flushed before exit 0.
      await Bun.sleep(1500);
      const before = await getJson<Current>(`${first.url}/api/v1/metrics/current`, token);
      const lastSeq = before.workers[0]!.sample!.seq;
      expect(await first.stop("SIGTERM")).toBe(0);
      expect(first.stderr()).toContain('"msg":"stopped cleanly"');

      // Restart on the same storage: the latest sample is there before any new one is taken.
      const port2 = freePort();
      const second = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port2}`, "--no-local-agent"], env, port: port2 });
      running.push(second);
      await second.ready(60_000);
      const after = await getJson<Current>(`${second.url}/api/v1/metrics/current`, token);
      expect(after.workers).toHaveLength(1);
      expect(after.workers[0]!.sample!.seq).toBeGreaterThanOrEqual(lastSeq);
      expect(second.stderr()).toContain('"workersRestored":1');
      expect(second.stdout()).not.toContain("password:"); // printed on the first start only
      expect(await second.stop("SIGINT")).toBe(0);
    }, 120_000);
  });
}

test("a second head on a port already taken exits 1 saying so, rather than sharing the port with the first", async () => {
  const port = freePort();
  const first = spawnVigil({
    args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"],
    env: { VIGIL_DATA_DIR: tempDir() },
    port,
  });
  running.push(first);
  await first.ready(60_000);
  const dir = tempDir();
  dirs.push(dir);
  const second = await runVigil(["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], { VIGIL_DATA_DIR: dir });
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
}, 90_000);

test("SIGTERM while the embedded database is first created: the head finishes starting, then stops with exit 0", async () => {
  const port = freePort();
  const dir = tempDir();
  dirs.push(dir);
  const head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env: { VIGIL_DATA_DIR: dir }, port });
  running.push(head);
  // Well inside the first start (PGlite's initdb and the migrations take seconds).
  await Bun.sleep(400);
  head.proc.kill("SIGTERM");
  expect(await head.proc.exited).toBe(0);
  expect(head.stderr()).toContain("stop asked while starting");
  expect(head.stderr()).toContain("stopped cleanly");
  // The directory it left is whole: the next start opens it.
  const again = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env: { VIGIL_DATA_DIR: dir }, port });
  running.push(again);
  await again.ready(60_000);
}, 120_000);
