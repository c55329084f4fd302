// The GPU fallback chain as the real program runs it: NVML (the fake C library), then nvidia-smi (the fake script), then none.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { buildFakeNvml } from "../fake-nvml/build.ts";
import { freePort, getJson, REPO, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { GpuSchema, checkSample } from "../../src/protocol/sample.ts";

const SCENARIOS = join(REPO, "test/fake-nvml/scenarios");
const FIXTURE_PROC = join(REPO, "test/fake-nvml/fixture/proc");
const FAKE_SMI = join(REPO, "test/fake-nvidia-smi/nvidia-smi");
const MISSING = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
const GPU_FIELDS = Object.keys(GpuSchema.properties);

let lib = "";
beforeAll(async () => {
  lib = await buildFakeNvml("full");
}, 60_000);

async function once(env: Record<string, string>) {
  const r = await runVigil(["agent", "--once", "--json"], env);
  expect(r.code).toBe(0);
  const sample = JSON.parse(r.stdout);
  expect(checkSample(sample)).toEqual({ ok: true, sample });
  return sample;
}

describe("vigil agent --once --json picks its GPU source", () => {
  test("this machine has no GPU: gpuSource none, and the reason a person can act on", async () => {
    const s = await once(MISSING);
    expect(s.gpuSource).toBe("none");
    expect(s.gpus).toEqual([]);
    expect(s.gpuError).toContain("NVML not found: ");
    expect(s.gpuError).toContain("nvidia-smi not found: ");
  });

  test("NVML through the fake library: 8 GPUs with every field filled or null", async () => {
    const s = await once({ VIGIL_NVML_LIB: lib, FAKE_NVML_SCENARIO: join(SCENARIOS, "h100x8.scenario"), VIGIL_PROC_ROOT: FIXTURE_PROC });
    expect(s.gpuSource).toBe("nvml");
    expect(s.gpus).toHaveLength(8);
    for (const g of s.gpus) {
      for (const f of GPU_FIELDS) expect(g).toHaveProperty(f);
      expect(g.name).toBe("NVIDIA H100 80GB HBM3");
      expect(g.fanSpeed).toBeNull(); // datacenter board: no fans, so null, never 0
    }
    const withProcesses = s.gpus.flatMap((g: { processes: unknown[] }) => g.processes);
    expect(withProcesses.length).toBeGreaterThan(0);
    expect(withProcesses).toContainEqual(expect.objectContaining({ user: "alice", name: "python3" }));
  });

  test("NVML present but its init fails: nvidia-smi takes over", async () => {
    const s = await once({
      VIGIL_NVML_LIB: lib,
      FAKE_NVML_SCENARIO: join(SCENARIOS, "init-failure.scenario"),
      VIGIL_NVIDIA_SMI: FAKE_SMI,
      FAKE_NVIDIA_SMI_CAPTURE: "rtx4090-2x",
    });
    expect(s.gpuSource).toBe("nvidia-smi");
    expect(s.gpus).toHaveLength(2);
    expect(s.gpus[0].name).toContain("4090");
  });

  test("no NVML at all: nvidia-smi; a driver that is not loaded: none with NVIDIA's message", async () => {
    const smi = await once({ ...MISSING, VIGIL_NVIDIA_SMI: FAKE_SMI, FAKE_NVIDIA_SMI_CAPTURE: "h100-8x" });
    expect(smi.gpuSource).toBe("nvidia-smi");
    expect(smi.gpus).toHaveLength(8);
    const broken = await once({ ...MISSING, VIGIL_NVIDIA_SMI: FAKE_SMI, FAKE_NVIDIA_SMI_MODE: "no-driver" });
    expect(broken.gpuSource).toBe("none");
    expect(broken.gpuError).toContain("NVIDIA-SMI has failed");
  });
});

describe("vigil serve with the fake NVML", () => {
  let head: VigilProcess | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await head?.stop("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("the head's own GPUs are stored, served by the API, and rebuilt after a restart", async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const env = {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_WORKER_NAME: "gpu-box",
      VIGIL_NVML_LIB: lib,
      FAKE_NVML_SCENARIO: join(SCENARIOS, "h100x8.scenario"),
    };
    const port = freePort();
    head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`], env, port });
    await head.ready(60_000);
    const token = (await runVigil(["token", "create", "--name", "gpu-e2e", "--role", "viewer"], env)).stdout.trim();
    let workers: { workers: { gpuCount: number }[] } = { workers: [] };
    for (let i = 0; i < 50 && !(workers.workers[0]?.gpuCount === 8); i++) {
      await Bun.sleep(200);
      workers = await getJson(`${head.url}/api/v1/workers`, token);
    }
    expect(workers.workers[0]!.gpuCount).toBe(8);
    const cur = await getJson(`${head.url}/api/v1/metrics/current`, token);
    expect(cur.workers[0].sample.gpuSource).toBe("nvml");
    expect(cur.workers[0].sample.gpus[0].pciBusId).toMatch(/^0000/);
    await Bun.sleep(1200);
    expect(await head.stop()).toBe(0);

    const port2 = freePort();
    head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port2}`, "--no-local-agent"], env, port: port2 });
    await head.ready(60_000);
    const after = await getJson(`${head.url}/api/v1/metrics/current`, token);
    const g = after.workers[0].sample.gpus;
    expect(g).toHaveLength(8);
    expect(g[0]).toMatchObject({ name: "NVIDIA H100 80GB HBM3", computeCapability: "9.0", lost: false });
    expect(await head.stop()).toBe(0);
  }, 120_000);
});
