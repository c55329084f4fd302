// `vigil worker add` beside a running head prints the install line with the address the head knows for itself.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { freePort, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const dirs: string[] = [];
const running: VigilProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function headOn(env: Record<string, string>): Promise<{ dir: string; port: number }> {
  const dir = tempDir("vigil-worker-add-");
  dirs.push(dir);
  const port = freePort();
  const p = spawnVigil({
    args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"],
    env: { VIGIL_DATA_DIR: dir, ...env },
    port,
  });
  running.push(p);
  await p.ready(60_000);
  return { dir, port };
}

describe("vigil worker add through the running head", () => {
  test("the head's VIGIL_PUBLIC_URL, though this shell has none, and no 'guess' note", async () => {
    const { dir } = await headOn({ VIGIL_PUBLIC_URL: "https://vigil.example.org" });
    const r = await runVigil(["worker", "add", "gpu-09"], { VIGIL_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("curl -fsSL https://vigil.example.org/install.sh | sudo sh -s -- --token ");
    expect(r.stderr).not.toContain("guess");
    expect(r.stderr).not.toContain("VIGIL_PUBLIC_URL");
  }, 90_000);

  test("without one: the head's host name and its real listen port, saying where that comes from", async () => {
    const { dir, port } = await headOn({});
    const r = await runVigil(["worker", "add", "gpu-10"], { VIGIL_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`curl -fsSL http://${hostname()}:${port}/install.sh`);
    expect(r.stderr).toContain("the head has no VIGIL_PUBLIC_URL");
    expect(r.stderr).not.toContain(":8480");
    // This shell's own VIGIL_PUBLIC_URL still wins.
    const mine = await runVigil(["worker", "add", "gpu-11"], { VIGIL_DATA_DIR: dir, VIGIL_PUBLIC_URL: "https://other.example.org" });
    expect(mine.stderr).toContain("curl -fsSL https://other.example.org/install.sh");
  }, 90_000);
});
