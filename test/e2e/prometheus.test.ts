// GET /metrics as Prometheus scrapes it: dcgm-exporter's names and labels, null vitals absent, hostile labels escaped, access rules, counters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { upsertWorker } from "../../src/fleet/workers.ts";
import { saveThreshold } from "../../src/alerts/store.ts";
import { SYSTEM } from "../../src/auth/audit.ts";
import { services } from "../../src/db/schema/index.ts";
import { EXPOSITION_CONTENT_TYPE } from "../../src/metrics/exposition.ts";
import { acceptsGzip } from "../../src/routes/prometheus.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { checkExposition } from "../harness/exposition.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { freePort, REPO, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { makeSample } from "../fixtures/samples.ts";

const HOSTILE = 'evil"} 1\nvigil_worker_up{worker="gpu-01"} 0\n# TYPE x counter\\';

/** The GPU label set dcgm-exporter writes, plus Vigil's worker. */
function gpuLabels(index: number, worker = "gpu-01", hostname = "gpu-07") {
  return {
    gpu: String(index),
    UUID: `GPU-00000000-0000-0000-0000-00000000000${index}`,
    pci_bus_id: `00000000:${(0x18 + index).toString(16).toUpperCase()}:00.0`,
    device: `nvidia${index}`,
    modelName: "NVIDIA H100 80GB HBM3",
    Hostname: hostname,
    DCGM_FI_DRIVER_VERSION: "580.65.06",
    worker,
  };
}

/** A 2-GPU worker with some vitals the devices do not report (null). */
function gpu01Sample(seq: number) {
  const sample = makeSample(seq, { ts: new Date(Date.now() - 500), hostname: "gpu-07" });
  sample.gpus[1] = {
    ...sample.gpus[1]!,
    memoryTemperature: null,
    powerUsage: null,
    eccCorrected: null,
    pstate: 2,
    throttleReasons: ["sw_power_cap", "hw_thermal_slowdown"],
  };
  sample.host = { ...sample.host, cpuTemperature: null, swapTotal: null, swapUsed: null };
  return sample;
}

async function scrape(head: TestHead, as: "viewer-token" | "anonymous" = "viewer-token") {
  const res = await head.request("/metrics", { as });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(EXPOSITION_CONTENT_TYPE);
  const text = await res.text();
  return { text, m: checkExposition(text) };
}

describeEachEngine("GET /metrics", (engine) => {
  let head: TestHead;
  let gpu01: number;
  let sampleTs = 0;
  beforeAll(async () => {
    head = await startTestHead(engine);
    gpu01 = await upsertWorker(head.database.db, { name: "gpu-01", kind: "remote", hostname: "gpu-07" });
    const sample = gpu01Sample(1);
    sampleTs = Date.parse(sample.ts);
    await head.ctx.ingestor.ingest({ id: gpu01, name: "gpu-01" }, sample);
  }, 60_000);
  afterAll(() => head.close());

  test("a 2-GPU worker under dcgm-exporter's names, label set and units", async () => {
    const { m } = await scrape(head);
    expect(m.samples("DCGM_FI_DEV_GPU_UTIL", { worker: "gpu-01" }).map((s) => [s.labels, s.value])).toEqual([
      [gpuLabels(0), "7"],
      [gpuLabels(1), "8"],
    ]);
    const g0 = gpuLabels(0);
    expect(m.value("DCGM_FI_DEV_FB_USED", g0)).toBe(40000); // MiB, as dcgm-exporter
    expect(m.value("DCGM_FI_DEV_FB_FREE", g0)).toBe(41559);
    expect(m.value("DCGM_FI_DEV_FB_TOTAL", g0)).toBe(81559);
    expect(m.value("DCGM_FI_DEV_GPU_TEMP", g0)).toBe(71);
    expect(m.value("DCGM_FI_DEV_MEMORY_TEMP", g0)).toBe(64);
    expect(m.value("DCGM_FI_DEV_POWER_USAGE", g0)).toBe(612.5); // W
    expect(m.value("DCGM_FI_DEV_ENFORCED_POWER_LIMIT", g0)).toBe(700);
    expect(m.value("DCGM_FI_DEV_SM_CLOCK", g0)).toBe(1980); // MHz
    expect(m.value("DCGM_FI_DEV_MEM_CLOCK", g0)).toBe(2619);
    expect(m.value("DCGM_FI_DEV_MEM_COPY_UTIL", g0)).toBe(40);
    expect(m.value("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", g0)).toBe(1200);
    expect(m.value("DCGM_FI_DEV_PCIE_RX_THROUGHPUT", g0)).toBe(800);
    expect(m.value("DCGM_FI_DEV_ENC_UTIL", g0)).toBe(0);
    expect(m.value("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", g0)).toBe(0);
    expect(m.value("DCGM_FI_DEV_PCIE_LINK_GEN", g0)).toBe(5);
    expect(m.value("DCGM_FI_DEV_PSTATE", gpuLabels(1))).toBe(2);
    expect(m.value("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", g0)).toBe(0);
    expect(m.value("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", gpuLabels(1))).toBe(0x44); // SW power cap | HW thermal slowdown
    expect(m.value("vigil_gpu_lost", g0)).toBe(0);
    // dcgm-exporter's own HELP and TYPE.
    expect(m.families.get("DCGM_FI_DEV_FB_USED")).toMatchObject({ help: "Framebuffer memory used (in MiB).", type: "GAUGE" });
    expect(m.families.get("DCGM_FI_DEV_SM_CLOCK")).toMatchObject({ help: "SM clock frequency (in MHz).", type: "GAUGE" });
    expect(m.families.get("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL")?.type).toBe("COUNTER");
  });

  test("host series under node_exporter's names where the quantity is the same, with Hostname and worker", async () => {
    const { m } = await scrape(head);
    const host = { Hostname: "gpu-07", worker: "gpu-01" };
    expect(m.samples("node_load1", { worker: "gpu-01" }).map((s) => s.labels)).toEqual([host]);
    expect([m.value("node_load1", host), m.value("node_load5", host), m.value("node_load15", host)]).toEqual([0.5, 0.4, 0.3]);
    expect(m.value("node_memory_MemTotal_bytes", host)).toBe(68719476736);
    expect(m.value("node_memory_MemAvailable_bytes", host)).toBe(68719476736 - 12884901888);
    expect(m.value("vigil_host_memory_used_bytes", host)).toBe(12884901888);
    expect(m.value("node_boot_time_seconds", host)).toBe(Math.round(sampleTs / 1000 - (86400 + 1)));
    expect(m.value("node_filesystem_avail_bytes", { ...host, mountpoint: "/" })).toBe(1);
    expect(m.value("node_filesystem_files_free", { ...host, mountpoint: "/" })).toBe(1);
    expect(m.value("vigil_host_cpu_usage_percent", host)).toBe(12.5);
    expect(m.samples("vigil_host_info", host)[0]?.labels).toMatchObject({ os: "Ubuntu 22.04.4 LTS", kernel: "5.15.0-105-generic" });
    // Not node_exporter's quantity (df's total leaves out the root reserve): no node_filesystem_size_bytes.
    expect(m.families.has("node_filesystem_size_bytes")).toBe(false);
  });

  test("a vital the device does not report is absent, never 0", async () => {
    const { m } = await scrape(head);
    expect(m.families.has("DCGM_FI_DEV_FAN_SPEED")).toBe(false); // null on both GPUs of the fixture
    for (const name of ["DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL"]) {
      expect(m.samples(name, { worker: "gpu-01" }).map((s) => s.labels?.gpu)).toEqual(["0"]);
    }
    expect(m.samples("vigil_host_cpu_temperature_celsius", { worker: "gpu-01" })).toEqual([]);
    expect(m.samples("node_memory_SwapTotal_bytes", { worker: "gpu-01" })).toEqual([]);
    expect(m.samples("node_memory_SwapFree_bytes", { worker: "gpu-01" })).toEqual([]);
  });

  test("Vigil's own series: workers up or not, last seen, ingest and writer counters, build info", async () => {
    const { m } = await scrape(head);
    expect(m.value("vigil_worker_up", { worker: "gpu-01" })).toBe(1);
    expect(m.samples("vigil_worker_up", { worker: "gpu-01" })[0]?.labels).toEqual({ worker: "gpu-01", Hostname: "gpu-07" });
    expect(m.value("vigil_worker_up", { worker: head.agent.name })).toBe(0); // enrolled, never sent a sample
    expect(m.samples("vigil_worker_last_seen_timestamp_seconds", { worker: head.agent.name })).toEqual([]);
    expect(m.value("vigil_worker_last_seen_timestamp_seconds", { worker: "gpu-01" })).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(m.value("vigil_worker_gpus", { worker: "gpu-01" })).toBe(2);
    expect(m.samples("vigil_build_info")).toHaveLength(1);
    expect(m.families.get("vigil_ingest_samples_total")?.type).toBe("COUNTER");
    // Alerts are not built yet: their provider is added to the registry later, and no stand-in 0 is exported.
    expect(m.families.has("vigil_alerts_firing")).toBe(false);
  });

  test("the counters move with ingest", async () => {
    const before = (await scrape(head)).m;
    await head.ctx.ingestor.ingest({ id: gpu01, name: "gpu-01" }, gpu01Sample(2)); // settles once committed
    await expect(head.ctx.ingestor.ingestUntrusted({ id: gpu01, name: "gpu-01" }, { seq: "not a sample" })).rejects.toThrow(
      "invalid sample",
    );
    const after = (await scrape(head)).m;
    const delta = (name: string, match?: Record<string, string>) => after.value(name, match) - before.value(name, match);
    expect(delta("vigil_ingest_samples_total", { result: "accepted" })).toBe(1);
    expect(delta("vigil_ingest_samples_total", { result: "rejected" })).toBe(1);
    expect(delta("vigil_writer_committed_samples_total")).toBe(1);
    expect(delta("vigil_writer_committed_gpu_rows_total")).toBe(2);
    expect(delta("vigil_writer_flushes_total", { result: "ok" })).toBeGreaterThanOrEqual(1);
    expect(after.value("vigil_writer_queued_samples")).toBe(0);
    expect(after.value("DCGM_FI_DEV_GPU_UTIL", gpuLabels(0))).toBe(14); // the new sample's value
  });

  test("hostnames, GPU names and mount points from agents are escaped: read back unchanged, nothing injected", async () => {
    const id = await upsertWorker(head.database.db, { name: "gpu-evil", kind: "remote" });
    const sample = makeSample(1, { ts: new Date(Date.now() - 400), hostname: HOSTILE, gpus: 1 });
    sample.gpus[0] = { ...sample.gpus[0]!, name: `H100 "SXM"\n\\`, driverVersion: 'x"\ny' };
    sample.host.disks = [{ mount: '/mnt/a "b"\nc\\', used: 10, total: 30, inodesUsed: null, inodesTotal: null }];
    await head.ctx.ingestor.ingest({ id, name: "gpu-evil" }, sample);

    const { m } = await scrape(head);
    const [gpu] = m.samples("DCGM_FI_DEV_GPU_UTIL", { worker: "gpu-evil" });
    expect(gpu?.labels).toMatchObject({ Hostname: HOSTILE, modelName: `H100 "SXM"\n\\`, DCGM_FI_DRIVER_VERSION: 'x"\ny' });
    expect(m.value("node_filesystem_avail_bytes", { worker: "gpu-evil", mountpoint: '/mnt/a "b"\nc\\' })).toBe(20);
    expect(m.value("vigil_worker_up", { worker: "gpu-evil", Hostname: HOSTILE })).toBe(1);
    // The forged line inside the hostname did not become a series, and no family "x" was declared.
    expect(m.samples("vigil_worker_up", { worker: "gpu-01" }).map((s) => s.value)).toEqual(["1"]);
    expect(m.families.has("x")).toBe(false);
  });

  test("an offline worker's last vitals are not exported as current; it shows as down", async () => {
    const id = await upsertWorker(head.database.db, { name: "gpu-gone", kind: "remote" });
    const hourAgo = new Date(Date.now() - 3_600_000);
    head.ctx.latest.update({ workerId: id, workerName: "gpu-gone", receivedAt: hourAgo, sample: makeSample(1, { ts: hourAgo }) });
    const { m } = await scrape(head);
    expect(m.value("vigil_worker_up", { worker: "gpu-gone" })).toBe(0);
    expect(m.value("vigil_worker_last_seen_timestamp_seconds", { worker: "gpu-gone" })).toBe(hourAgo.getTime() / 1000);
    for (const name of ["DCGM_FI_DEV_GPU_UTIL", "node_load1", "node_filesystem_avail_bytes"]) {
      expect(m.samples(name, { worker: "gpu-gone" })).toEqual([]);
    }
  });

  test("alerts: vigil_alerts_firing by worker, rule and severity; open alerts by state; the delivery backlog", async () => {
    const hot = await upsertWorker(head.database.db, { name: "gpu-hot", kind: "remote", hostname: "gpu-hot" });
    await saveThreshold(head.database.db, SYSTEM, { metric: "temperature", workerId: hot, warning: 70, critical: 85, forSeconds: 0 });
    await head.ctx.alerts.reload();
    const sample = makeSample(1, { ts: new Date(Date.now() - 200), hostname: "gpu-hot" });
    sample.gpus = sample.gpus.map((g) => ({ ...g, temperature: 91 }));
    await head.ctx.ingestor.ingest({ id: hot, name: "gpu-hot" }, sample);
    await head.ctx.alerts.idle();
    const { m } = await scrape(head);
    expect(m.value("vigil_alerts_firing", { worker: "gpu-hot", rule: "threshold:temperature", severity: "critical" })).toBe(2);
    expect(m.value("vigil_alerts_open", { state: "firing" })).toBeGreaterThanOrEqual(2);
    // One head: it runs every loop.
    for (const loop of ["alerts", "deliveries", "retention", "health"]) expect(m.value("vigil_loop_leader", { loop })).toBe(1);
    expect(m.value("vigil_alert_deliveries", { status: "failed" })).toBe(0);
  });

  test("a service's health alert is labelled service=NAME, with no worker label", async () => {
    const [svc] = await head.database.db
      .insert(services)
      .values({ name: "inference-api", kind: "http", escalationSeconds: 300 })
      .returning();
    await head.ctx.alerts.observeService({ id: svc!.id, name: "inference-api", workerId: null, escalationSeconds: 300 }, "down", {
      latencyMs: null,
      message: "connection refused",
    });
    await head.ctx.alerts.idle();
    const { m } = await scrape(head);
    expect(m.samples("vigil_alerts_firing", { rule: "health:service" }).map((s) => s.labels)).toEqual([
      { service: "inference-api", rule: "health:service", severity: "critical" },
    ]);
    expect(m.samples("vigil_alerts_firing", { worker: "inference-api" })).toEqual([]);
  });

  test("needs a viewer's session or API token by default: 401 without one, and an agent's secret is no API token", async () => {
    const anon = await head.request("/metrics");
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe('Bearer realm="vigil"');
    expect((await head.request("/metrics", { headers: { authorization: "Bearer vgl_not-a-token" } })).status).toBe(401);
    expect((await head.request("/metrics", { as: "agent" })).status).toBe(401);
    for (const as of ["viewer", "viewer-token", "admin-token"] as const) expect((await head.request("/metrics", { as })).status).toBe(200);
  });

  test("gzip when the scraper asks for it, as Prometheus always does", async () => {
    const res = await head.request("/metrics", { as: "viewer-token", headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("content-type")).toBe(EXPOSITION_CONTENT_TYPE);
    const text = new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())));
    expect(checkExposition(text).samples("DCGM_FI_DEV_GPU_UTIL", { worker: "gpu-01" })).toHaveLength(2);
    const plain = await head.request("/metrics", { as: "viewer-token", headers: { "accept-encoding": "gzip;q=0, identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
  });
});

describeEachEngine("GET /metrics with VIGIL_METRICS_PUBLIC=true", (engine) => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead(engine, { env: { VIGIL_METRICS_PUBLIC: "true" } });
  }, 60_000);
  afterAll(() => head.close());

  test("anyone may scrape, and the rest of the API stays locked", async () => {
    const { m } = await scrape(head, "anonymous");
    expect(m.value("vigil_worker_up", { worker: head.agent.name })).toBe(0);
    expect((await head.request("/api/v1/workers")).status).toBe(401);
  });
});

describe("Accept-Encoding", () => {
  test("gzip counts unless its q-value is 0", () => {
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("br, GZIP;q=0.5")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("gzip; q=0.000")).toBe(false);
    expect(acceptsGzip("x-gzip, identity")).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });
});

describe("vigil serve, scraped over HTTP", () => {
  const dirs: string[] = [];
  let head: VigilProcess | undefined;
  afterAll(async () => {
    await head?.stop("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("the embedded agent's GPUs (8 H100 through the fake nvidia-smi) come out under dcgm-exporter's names", async () => {
    const dataDir = tempDir("vigil-prom-");
    dirs.push(dataDir);
    const port = freePort();
    head = spawnVigil({
      args: ["serve", "--listen", `127.0.0.1:${port}`],
      env: {
        VIGIL_DATA_DIR: dataDir,
        VIGIL_WORKER_NAME: "prom-local",
        VIGIL_METRICS_PUBLIC: "true",
        VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1",
        VIGIL_NVIDIA_SMI: join(REPO, "test/fake-nvidia-smi/nvidia-smi"),
        FAKE_NVIDIA_SMI_CAPTURE: "h100-8x",
      },
      port,
    });
    await head.ready(60_000);
    const deadline = Date.now() + 15_000;
    let text = "";
    while (Date.now() < deadline) {
      const res = await fetch(`${head.url}/metrics`); // fetch asks for gzip and unpacks it, as Prometheus does
      expect(res.status).toBe(200);
      text = await res.text();
      if (text.includes('DCGM_FI_DEV_GPU_UTIL{gpu="7"')) break;
      await Bun.sleep(200);
    }
    const m = checkExposition(text);
    const util = m.samples("DCGM_FI_DEV_GPU_UTIL", { worker: "prom-local" });
    expect(util.map((s) => s.labels?.gpu)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(util[0]?.labels).toMatchObject({
      device: "nvidia0",
      UUID: expect.stringMatching(/^GPU-/),
      modelName: expect.stringContaining("H100"),
    });
    expect(m.value("vigil_worker_up", { worker: "prom-local" })).toBe(1);
    expect(m.samples("node_load1", { worker: "prom-local" })).toHaveLength(1);
    expect(m.value("vigil_ingest_samples_total", { result: "accepted" })).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
