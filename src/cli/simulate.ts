// `vigil simulate`: a synthetic fleet that enrolls and pushes samples over the real agent protocol, for demos and load tests.
import { ConfigError, parseCommandConfig } from "../config.ts";
import { log, setLogLevel } from "../log.ts";
import { MAX_BATCH_SAMPLES as MAX_BATCH, type HeadMessage } from "../protocol/messages.ts";
import type { GpuVitals, Sample } from "../protocol/sample.ts";
import { VERSION } from "../version.ts";
import type { Command } from "./command.ts";

const settings = ["head", "token", "simWorkers", "simGpus", "interval", "simBatch", "duration", "logLevel"] as const;

export const simulateCommand: Command = {
  name: "simulate",
  summary: "run a synthetic fleet against a head through the real agent protocol (demo data, load tests)",
  usage: "vigil simulate --head URL --token ADMIN_API_TOKEN [--workers N] [--gpus M] [--interval S] [--batch K] [--duration S]",
  settings,
  details:
    "Registers workers named sim-0001... with the admin token (rotating them when they exist), enrolls each,\n" +
    "and sends one sample per worker per interval (K per message with --batch). Prints the acknowledged rate\n" +
    "every 5 s and a summary at the end: samples and GPU samples per second committed by the head.",
  async run(argv) {
    const { config } = parseCommandConfig("simulate", settings, argv);
    setLogLevel(config.logLevel);
    if (!config.head) throw new ConfigError("simulate: say which head with --head URL");
    if (!config.token) throw new ConfigError("simulate: give an admin API token with --token (vigil token create --name sim --role admin)");
    const head = config.head;
    const api = async (path: string, body?: unknown) => {
      const r = await fetch(`${head}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${config.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    };

    // Register (or re-register) and enroll every worker.
    const existing = ((await api("/api/v1/workers")).body.workers ?? []) as { id: number; name: string }[];
    if (!Array.isArray(existing)) throw new ConfigError("simulate: the head refused the token (it needs the admin role)");
    const fleet: { name: string; secret: string; ws?: WebSocket; seq: number; acked: number; gpus: GpuVitals[] }[] = [];
    for (let i = 1; i <= config.simWorkers; i++) {
      const name = `sim-${String(i).padStart(4, "0")}`;
      const known = existing.find((w) => w.name === name);
      const t = known ? await api(`/api/v1/workers/${known.id}/rotate`, {}) : await api("/api/v1/workers", { name });
      if (t.status >= 300) throw new Error(`could not register ${name}: HTTP ${t.status} ${JSON.stringify(t.body)}`);
      const e = await fetch(`${head}/api/v1/agent/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: t.body.enrollmentToken, hostname: name, machineId: `simulated-${name}`, version: VERSION }),
      });
      const cred = (await e.json()) as { secret?: string; error?: string };
      if (!cred.secret) throw new Error(`could not enroll ${name}: ${cred.error ?? e.status}`);
      fleet.push({
        name,
        secret: cred.secret,
        seq: 0,
        acked: 0,
        gpus: Array.from({ length: config.simGpus }, (_, g) => syntheticGpu(name, g)),
      });
    }
    console.error(
      `simulating ${fleet.length} workers x ${config.simGpus} GPUs every ${config.interval}s (${config.simBatch} samples per message) against ${head}`,
    );

    let acked = 0;
    let rejected = 0;
    let busy = 0;
    // Samples are timestamped from a virtual clock advancing one interval per sample, so a batch of K is K distinct instants.
    const base = Date.now() - 3_600_000;
    const wsUrl = `${head.replace(/^http/, "ws")}/api/v1/agent/ws`;
    await Promise.all(
      fleet.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(wsUrl, {
              headers: { authorization: `Bearer ${w.secret}`, "x-vigil-version": VERSION, "x-vigil-interval": String(config.interval) },
            } as unknown as string[]);
            w.ws = ws;
            ws.onopen = () => resolve();
            ws.onerror = () => reject(new Error(`${w.name}: WebSocket to ${wsUrl} failed`));
            ws.onmessage = (m) => {
              const msg = JSON.parse(String(m.data)) as HeadMessage;
              if (msg.type === "ack") {
                acked += msg.seqs.length;
                w.acked += msg.seqs.length;
              } else if (msg.type === "reject") rejected += msg.seqs.length;
              else if (msg.type === "busy") {
                // As a real agent does: keep the samples and send them again when the head says.
                busy += msg.seqs.length;
                setTimeout(() => {
                  const again = msg.seqs.map((seq) => syntheticSample(w.name, seq, new Date(base + seq * config.interval * 1000), w.gpus));
                  for (let i = 0; i < again.length; i += MAX_BATCH)
                    ws.send(JSON.stringify({ type: "batch", samples: again.slice(i, i + MAX_BATCH) }));
                }, msg.retryAfterMs);
              } else if (msg.type === "restart")
                ws.send(
                  JSON.stringify({
                    type: "restart-status",
                    id: msg.id,
                    state: "refused",
                    message: "simulated worker",
                    at: new Date().toISOString(),
                  }),
                );
            };
          }),
      ),
    );

    const started = performance.now();
    let lastReport = started;
    let ackedAtReport = 0;
    let stop = false;
    process.on("SIGINT", () => (stop = true));
    process.on("SIGTERM", () => (stop = true));
    while (!stop && (!config.duration || performance.now() - started < config.duration * 1000)) {
      const tickStart = performance.now();
      for (const w of fleet) {
        const samples: Sample[] = [];
        for (let k = 0; k < config.simBatch; k++) {
          const seq = w.seq++;
          samples.push(syntheticSample(w.name, seq, new Date(base + seq * config.interval * 1000), w.gpus));
        }
        w.ws!.send(JSON.stringify({ type: "batch", samples }));
      }
      const now = performance.now();
      if (now - lastReport >= 5000) {
        const rate = ((acked - ackedAtReport) * 1000) / (now - lastReport);
        console.error(
          `acked ${rate.toFixed(0)} samples/s (${(rate * config.simGpus).toFixed(0)} GPU samples/s), ${rejected} rejected, ${busy} sent again after busy`,
        );
        lastReport = now;
        ackedAtReport = acked;
      }
      await Bun.sleep(Math.max(0, config.interval * 1000 - (performance.now() - tickStart)));
    }
    // Let in-flight batches be acknowledged before counting.
    const sent = fleet.reduce((n, w) => n + w.seq, 0);
    const drainUntil = performance.now() + 60_000;
    while (acked + rejected < sent && performance.now() < drainUntil) await Bun.sleep(100);
    const seconds = (performance.now() - started) / 1000;
    for (const w of fleet) w.ws?.close(1000, "simulation over");
    const summary = {
      workers: fleet.length,
      gpusPerWorker: config.simGpus,
      seconds: Math.round(seconds * 10) / 10,
      sent,
      acked,
      rejected,
      busy,
      samplesPerSecond: Math.round(acked / seconds),
      gpuSamplesPerSecond: Math.round((acked * config.simGpus) / seconds),
    };
    console.log(JSON.stringify(summary));
    log.debug("simulation finished", summary);
    return acked === sent ? 0 : 1;
  },
};

function hash(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function syntheticGpu(worker: string, index: number): GpuVitals {
  const id = hash(`${worker}/${index}`).toString(16).padStart(8, "0");
  return {
    index,
    uuid: `GPU-${id}-5151-4d1a-8000-${id}${id.slice(0, 4)}`,
    name: "NVIDIA H100 80GB HBM3",
    driverVersion: "570.133.20",
    cudaVersion: "12.8",
    utilization: 0,
    memoryUtilization: 0,
    memoryUsed: 0,
    memoryTotal: 81559,
    memoryFree: 81559,
    temperature: 35,
    powerUsage: 80,
    powerLimit: 700,
    fanSpeed: null,
    smClock: 345,
    memoryClock: 2619,
    pcieTxKBps: 0,
    pcieRxKBps: 0,
    encoderUtilization: 0,
    decoderUtilization: 0,
    pstate: 0,
    throttleReasons: [],
    eccCorrected: 0,
    eccUncorrected: 0,
    processes: [],
  };
}

/** A plausible training job: utilization and memory wander, temperature and power follow. */
function syntheticSample(worker: string, seq: number, ts: Date, gpus: GpuVitals[]): Sample {
  for (const g of gpus) {
    const u = Math.max(0, Math.min(100, (g.utilization ?? 0) + (Math.random() - 0.45) * 20));
    g.utilization = Math.round(u);
    g.memoryUsed = Math.round(Math.min(81559, Math.max(0, (g.memoryUsed ?? 0) + (Math.random() - 0.4) * 2000)));
    g.memoryFree = 81559 - g.memoryUsed;
    g.memoryUtilization = Math.round(u * 0.6);
    g.temperature = Math.round(35 + u * 0.4);
    g.powerUsage = Math.round(80 + u * 6);
    g.smClock = u > 5 ? 1980 : 345;
  }
  return {
    seq,
    ts: ts.toISOString(),
    host: {
      hostname: worker,
      cpuPercent: Math.round(Math.random() * 400) / 10,
      load: [1, 1, 1],
      memoryUsed: 64 * 2 ** 30,
      memoryTotal: 512 * 2 ** 30,
      swapUsed: 0,
      swapTotal: 0,
      uptimeSeconds: 86400 + seq,
      disks: [],
      diskReadBps: 0,
      diskWriteBps: 0,
      netRxBps: 0,
      netTxBps: 0,
    },
    gpus: gpus.map((g) => ({ ...g })),
    gpuSource: "nvml",
  };
}
