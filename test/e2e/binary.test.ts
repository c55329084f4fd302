// `make build`'s output alone: dist/vigil copied into an empty directory, with no node_modules anywhere near, serves.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO, freePort, getJson, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const dirs: string[] = [];
let head: VigilProcess | undefined;
afterAll(async () => {
  await head?.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("the compiled binary carries its assets, migrations and PGlite, and serves from an empty directory", async () => {
  const buildDir = tempDir("vigil-build-");
  const runDir = tempDir("vigil-alone-");
  dirs.push(buildDir, runDir);
  const built = Bun.spawnSync([process.execPath, join(REPO, "scripts/build.ts"), join(buildDir, "vigil")], { cwd: REPO });
  expect(built.exitCode).toBe(0);
  const binary = join(runDir, "vigil");
  copyFileSync(join(buildDir, "vigil"), binary);
  Bun.spawnSync(["chmod", "+x", binary]);
  expect(existsSync(join(runDir, "node_modules"))).toBe(false);

  const version = await runVigil(["version"], {}, [binary]);
  expect(version.stdout).toMatch(/^vigil \d+\.\d+\.\d+ \([0-9a-f]{12}(-dirty)?, bun /);

  const port = freePort();
  // cwd is the empty directory, so the default ./vigil-data lands there.
  head = spawnVigil({ cmd: [binary], args: ["serve", "--listen", `127.0.0.1:${port}`], cwd: runDir, port });
  const token = async () => {
    const r = await runVigil(["token", "create", "--name", "bin", "--role", "viewer"], {}, [binary], runDir);
    expect(r.code).toBe(0);
    return r.stdout.trim();
  };
  await head.ready(60_000);
  expect(await getJson(`${head.url}/healthz`)).toMatchObject({ status: "ok", database: { engine: "pglite" } });
  const css = await fetch(`${head.url}/static/pico.min.css`);
  expect(css.headers.get("content-type")).toStartWith("text/css");
  expect(await css.text()).toContain("Pico CSS");
  const bearer = await token();
  for (let i = 0; i < 50; i++) {
    const cur = await getJson(`${head.url}/api/v1/metrics/current`, bearer);
    if (cur.workers[0]?.sample) break;
    await Bun.sleep(100);
  }
  const cur = await getJson(`${head.url}/api/v1/metrics/current`, bearer);
  expect(cur.workers[0].sample.host.memoryTotal).toBeGreaterThan(0);
  expect(existsSync(join(runDir, "vigil-data", "pglite"))).toBe(true);

  // An agent older than the head is told where to get the head's own binary, with its sha256.
  const ticket = await runVigil(["worker", "add", "old-agent"], {}, [binary], runDir);
  expect(ticket.code).toBe(0);
  const enrolled = await fetch(`${head.url}/api/v1/agent/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: ticket.stdout.trim(), hostname: "old-agent" }),
  });
  const { secret } = (await enrolled.json()) as { secret: string };
  const ws = new WebSocket(`${head.url.replace("http", "ws")}/api/v1/agent/ws`, {
    headers: { authorization: `Bearer ${secret}`, "x-vigil-version": "0.0.1" },
  } as unknown as string[]);
  const notice = await new Promise<{ type: string; version: string; path: string; sha256: string }>((resolve, reject) => {
    ws.onmessage = (e) => resolve(JSON.parse(String(e.data)));
    ws.onerror = () => reject(new Error("websocket failed"));
    setTimeout(() => reject(new Error("no update notice within 10 s")), 10_000);
  });
  ws.close();
  const fileSha = new Bun.CryptoHasher("sha256").update(await Bun.file(binary).arrayBuffer()).digest("hex");
  expect(notice).toEqual({ type: "update", version: version.stdout.split(" ")[1]!, path: "/download/vigil-linux-x64", sha256: fileSha });
  const download = await fetch(`${head.url}${notice.path}`);
  expect(new Bun.CryptoHasher("sha256").update(await download.arrayBuffer()).digest("hex")).toBe(fileSha);

  expect(await head.stop()).toBe(0);
}, 120_000);
