// `make demo` end to end: scripts/demo.sh on a free port shows 12 simulated workers, one hot GPU and one offline, and stops cleanly.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { freePort, getJson, REPO, runVigil, tempDir } from "../harness/process.ts";

interface Current {
  workers: {
    name: string;
    status: string;
    sample: {
      host: { simulated?: boolean };
      gpus: { index: number; temperature: number | null; processes: { user: string | null; container: string | null }[] }[];
    } | null;
  }[];
}

const dataDir = tempDir("vigil-demo-");
let groupId: number | undefined;
afterAll(() => {
  // The script runs in its own session: whatever is left of it (head, simulator) goes with the group.
  if (groupId !== undefined) {
    try {
      process.kill(-groupId, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  for (const p of [dataDir, `${dataDir}.head.log`, `${dataDir}.simulate.log`]) rmSync(p, { recursive: true, force: true });
});

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(250);
  }
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onText(decoder.decode(value, { stream: true }));
  }
}

function groupAlive(id: number): boolean {
  try {
    process.kill(-id, 0);
    return true;
  } catch {
    return false;
  }
}

test("make demo: 12 simulated workers x 8 GPUs, one hot GPU, one offline worker, stopped by Ctrl-C", async () => {
  const port = freePort();
  // setsid: a session of its own, so the test can tell that nothing of it outlives Ctrl-C.
  const demo = Bun.spawn(["setsid", "scripts/demo.sh"], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      BUN: process.execPath,
      VIGIL_LISTEN: `127.0.0.1:${port}`,
      VIGIL_DATA_DIR: dataDir,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  groupId = demo.pid;
  let out = "";
  let err = "";
  void drain(demo.stdout, (t) => (out += t));
  void drain(demo.stderr, (t) => (err += t));
  const url = `http://127.0.0.1:${port}`;

  await waitFor("the demo's banner", 90_000, async () => {
    if (demo.exitCode !== null) throw new Error(`scripts/demo.sh exited with ${demo.exitCode}:\n${out}\n${err}`);
    return out.includes("password:") ? true : undefined;
  });
  expect(out).toContain(`open:      ${url}`);
  expect(out).toContain("password:  vigil-demo");

  const created = await runVigil(["token", "create", "--name", "demo-test", "--role", "viewer"], { VIGIL_DATA_DIR: dataDir });
  expect(created.code).toBe(0);
  const token = created.stdout.trim();
  const names = Array.from({ length: 12 }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);

  const current = await waitFor("every simulated worker's first sample", 30_000, async () => {
    const cur = await getJson<Current>(`${url}/api/v1/metrics/current`, token);
    return names.every((n) => cur.workers.some((w) => w.name === n && w.sample)) ? cur : undefined;
  });
  expect(current.workers.map((w) => w.name)).toEqual(names);
  for (const w of current.workers) {
    expect(w.sample!.host.simulated).toBe(true);
    expect(w.sample!.gpus).toHaveLength(8);
  }
  const processes = current.workers.flatMap((w) => w.sample!.gpus.flatMap((g) => g.processes));
  expect(processes.filter((p) => p.user && p.container).length).toBeGreaterThan(10);

  const hot = await waitFor("one GPU above 85 °C", 10_000, async () => {
    const cur = await getJson<Current>(`${url}/api/v1/metrics/current`, token);
    const found = cur.workers.flatMap((w) =>
      (w.sample?.gpus ?? []).filter((g) => (g.temperature ?? 0) > 85).map((g) => `${w.name}/${g.index}`),
    );
    return found.length ? found : undefined;
  });
  expect(hot).toEqual(["sim-0004/5"]);

  // The head marks a worker offline a minute after its last sample (src/fleet/workers.ts); the last one stops after its history.
  const workers = await waitFor("sim-0012 offline", 100_000, async () => {
    const list = (await getJson<{ workers: { name: string; status: string }[] }>(`${url}/api/v1/workers`, token)).workers;
    return list.find((w) => w.name === "sim-0012")?.status === "offline" ? list : undefined;
  });
  expect(workers.filter((w) => w.status === "online").map((w) => w.name)).toEqual(names.slice(0, 11));

  // Ctrl-C: the script stops the simulator and the head, and nothing of the demo is left running.
  demo.kill("SIGINT");
  const code = await Promise.race([demo.exited, Bun.sleep(40_000).then(() => "still running")]);
  expect(code).toBe(130);
  await waitFor("every process of the demo gone", 10_000, async () => (groupAlive(demo.pid) ? undefined : true));
  expect(
    await fetch(`${url}/healthz`).then(
      () => "answering",
      () => "closed",
    ),
  ).toBe("closed");
  expect(out).toContain("stopping the head");
}, 240_000);
