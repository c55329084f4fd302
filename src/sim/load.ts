// The load-test worker of `vigil simulate`: every GPU a training job that wanders, cheap to make, for ingest benchmarks.
import type { GpuVitals, Sample } from "../protocol/sample.ts";
import { hash } from "./random.ts";
import type { SimulatedHost, SimulatedWorker } from "./fleet.ts";

/** Unchanged since the first ingest benchmark, so BENCHMARKS.md's rates stay comparable. */
export class LoadWorker implements SimulatedWorker {
  private readonly gpus: GpuVitals[];

  constructor(
    readonly name: string,
    gpuCount: number,
  ) {
    this.gpus = Array.from({ length: gpuCount }, (_, g) => syntheticGpu(name, g));
  }

  sample(seq: number, ts: Date): Sample {
    return syntheticSample(this.name, seq, ts, this.gpus);
  }
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
  const host: SimulatedHost = {
    simulated: true,
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
  };
  return {
    seq,
    ts: ts.toISOString(),
    host,
    gpus: gpus.map((g) => ({ ...g })),
    gpuSource: "nvml",
  };
}
