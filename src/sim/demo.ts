// The demo fleet of `vigil simulate --demo`: training, inference, notebook and idle workers, one hot GPU, one worker that goes offline.
import type { Disk, GpuProcess, GpuVitals, Sample } from "../protocol/sample.ts";
import type { SimulatedHost, SimulatedWorker } from "./fleet.ts";
import { hash, hexOf, seeded } from "./random.ts";

export type Role = "training" | "inference" | "notebooks" | "idle";

/** Workers cycle through these, so twelve make a fleet that is mostly busy with some room to spare. */
const ROLES: readonly Role[] = [
  "training",
  "inference",
  "notebooks",
  "training",
  "idle",
  "inference",
  "training",
  "notebooks",
  "training",
  "inference",
  "notebooks",
  "idle",
];

export interface DemoScenario {
  /** The GPU with a clogged cold plate: above 85 °C whenever it works. */
  hot: { worker: number; gpu: number } | null;
  /** The worker that sends its history and then falls silent: the fleet page shows it offline. */
  offline: number | null;
}

export function demoScenario(workers: number, gpus: number): DemoScenario {
  const offline = workers >= 2 ? workers - 1 : null;
  // Worker 4 is a training box in a full fleet; in a small one the first (also training) takes the part.
  return { hot: gpus > 0 ? { worker: workers >= 5 ? 3 : 0, gpu: Math.min(5, gpus - 1) } : null, offline };
}

/** How far back `vigil simulate --demo` fills history, and at what step, so charts have something to draw at once. */
export const DEMO_HISTORY_SECONDS = 2 * 3600;
export const DEMO_HISTORY_STEP_SECONDS = 30;
/** The offline worker's history stops this long before the demo starts. */
export const DEMO_OFFLINE_GAP_SECONDS = 20 * 60;
/** Units a demo worker "restarts" (it only reports the states; nothing runs). */
export const DEMO_SERVICES = ["vigil-agent.service", "nvidia-persistenced.service", "nvidia-fabricmanager.service", "docker.service"];

interface GpuModel {
  name: string;
  memoryTotal: number; // MiB
  powerLimit: number; // W
  powerIdle: number;
  idleClock: number; // MHz
  maxSmClock: number;
  maxMemoryClock: number;
  /** °C above the room per % of utilization */
  heat: number;
  fans: boolean;
  hbm: boolean;
  computeCapability: string;
  pcieGen: number;
}

const H100: GpuModel = {
  name: "NVIDIA H100 80GB HBM3",
  memoryTotal: 81559,
  powerLimit: 700,
  powerIdle: 72,
  idleClock: 345,
  maxSmClock: 1980,
  maxMemoryClock: 2619,
  heat: 0.42,
  fans: false,
  hbm: true,
  computeCapability: "9.0",
  pcieGen: 5,
};
const A100: GpuModel = {
  name: "NVIDIA A100-SXM4-80GB",
  memoryTotal: 81920,
  powerLimit: 400,
  powerIdle: 58,
  idleClock: 210,
  maxSmClock: 1410,
  maxMemoryClock: 1593,
  heat: 0.38,
  fans: false,
  hbm: true,
  computeCapability: "8.0",
  pcieGen: 4,
};
const L40S: GpuModel = {
  name: "NVIDIA L40S",
  memoryTotal: 46068,
  powerLimit: 350,
  powerIdle: 34,
  idleClock: 210,
  maxSmClock: 2520,
  maxMemoryClock: 9001,
  heat: 0.4,
  fans: true,
  hbm: false,
  computeCapability: "8.9",
  pcieGen: 4,
};

interface Hardware {
  gpu: GpuModel;
  cpuModel: string;
  cpuCores: number;
  memoryTotal: number; // bytes
  swapTotal: number;
  os: string;
  kernel: string;
  /** Local scratch or RAID for datasets and checkpoints, bytes */
  dataDisk: { mount: string; total: number };
}

const GiB = 2 ** 30;
const TB = 1e12;

/** DGX-like H100 boxes for most, two older A100 boxes and one L40S box in every twelve. */
function hardwareOf(index: number): Hardware {
  const slot = index % 12;
  if (slot === 8 || slot === 9)
    return {
      gpu: A100,
      cpuModel: "AMD EPYC 7742 64-Core Processor",
      cpuCores: 256,
      memoryTotal: 1024 * GiB,
      swapTotal: 8 * GiB,
      os: "Ubuntu 20.04.6 LTS",
      kernel: "5.4.0-204-generic",
      dataDisk: { mount: "/raid", total: 15.36 * TB },
    };
  if (slot === 10)
    return {
      gpu: L40S,
      cpuModel: "AMD EPYC 9354 32-Core Processor",
      cpuCores: 128,
      memoryTotal: 768 * GiB,
      swapTotal: 8 * GiB,
      os: "Debian GNU/Linux 12 (bookworm)",
      kernel: "6.1.0-31-amd64",
      dataDisk: { mount: "/scratch", total: 7.68 * TB },
    };
  return {
    gpu: H100,
    cpuModel: "Intel(R) Xeon(R) Platinum 8480C",
    cpuCores: 224,
    memoryTotal: 2048 * GiB,
    swapTotal: 0,
    os: "Ubuntu 22.04.5 LTS",
    kernel: "5.15.0-131-generic",
    dataDisk: { mount: "/raid", total: 30.72 * TB },
  };
}

const USERS = ["alice", "bob", "chen", "dmitri", "esra", "farid", "grace", "hiro", "ines", "jonas"];

interface Job {
  pid: number;
  name: string;
  user: string;
  container: string | null;
  memoryMiB: number;
  startedAt: number; // seconds since the epoch, on the samples' clock
  endsAt: number;
  /** Utilization the job drives its GPU to, before noise */
  load: (t: number) => number;
}

/** A place on a GPU where jobs come and go: notebook GPUs have two (shared by two people now and then). */
interface Slot {
  job: Job | null;
  /** When an empty slot gets its next job */
  nextAt: number;
}

interface GpuState {
  vitals: GpuVitals;
  slots: Slot[];
  u: number;
  temperature: number;
  power: number;
  ecc: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** How far a value moves toward its target in `dt` seconds with time constant `tau`. */
const toward = (dt: number, tau: number) => 1 - Math.exp(-dt / tau);

export class DemoWorker implements SimulatedWorker {
  readonly role: Role;
  readonly hardware: Hardware;
  readonly goesOffline: boolean;
  readonly restartAllow = DEMO_SERVICES;
  private readonly rand: () => number;
  private readonly hotGpu: number | null;
  private readonly room: number; // °C
  private gpus: GpuState[] = [];
  private started = false;
  /** Shared by all GPUs of a training box, or by a pair of GPUs of an inference box (tensor parallel 2). */
  private trainingJob: Job | null = null;
  private inferenceJobs: Job[] = [];
  private host = { cpu: 0, load: [0, 0, 0] as [number, number, number], memory: 0, raidUsed: 0, rootUsed: 0, docker: 0, bootAt: 0 };

  constructor(
    readonly name: string,
    readonly index: number,
    private readonly gpuCount: number,
    scenario: DemoScenario,
  ) {
    this.role = ROLES[index % ROLES.length]!;
    this.hardware = hardwareOf(index);
    this.goesOffline = scenario.offline === index;
    this.hotGpu = scenario.hot?.worker === index ? scenario.hot.gpu : null;
    this.rand = seeded(hash(`demo/${name}`));
    this.room = 27 + this.rand() * 6;
  }

  private between(lo: number, hi: number): number {
    return lo + this.rand() * (hi - lo);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  private pid(): number {
    return 1000 + Math.floor(this.rand() * 3_000_000);
  }

  private container(key: string): string {
    return hexOf(`${this.name}/${key}`, 12);
  }

  /** A multi-day training run over every GPU: steady near full load, dips while it evaluates and checkpoints. */
  private newTrainingJob(t: number, runningSince?: number): Job {
    const phase = this.rand() * 1200;
    return {
      pid: this.pid(),
      name: "python3",
      user: this.pick(USERS),
      container: this.rand() < 0.8 ? this.container(`train-${t}`) : null,
      memoryMiB: Math.round(this.hardware.gpu.memoryTotal * this.between(0.86, 0.94)),
      startedAt: runningSince ?? t,
      endsAt: t + this.between(8, 30) * 3600,
      load: (now) => (checkpointing(now, phase) ? 30 : 94),
    };
  }

  /** A model server on two GPUs: memory reserved up front, load following its users in waves. */
  private newInferenceJob(pair: number, t: number): Job {
    const phase = this.rand() * Math.PI * 2;
    const period = this.between(900, 1800);
    return {
      pid: this.pid(),
      name: pair % 2 === 0 ? "python3" : "tritonserver",
      user: "svc-inference",
      container: this.container(`serve-${pair}`),
      memoryMiB: Math.round(this.hardware.gpu.memoryTotal * 0.9),
      startedAt: t - this.between(1, 14) * 86400,
      endsAt: Number.POSITIVE_INFINITY,
      load: (now) => 20 + 55 * (0.5 + 0.5 * Math.sin((2 * Math.PI * now) / period + phase)),
    };
  }

  /** Someone's notebook: mostly thinking, now and then a burst of work; gone after half an hour or so. */
  private newNotebookJob(t: number): Job {
    const phase = this.rand() * 10;
    const burst = this.between(60, 90);
    return {
      pid: this.pid(),
      name: this.rand() < 0.7 ? "python3" : "jupyter-lab",
      user: this.pick(USERS),
      container: this.rand() < 0.5 ? this.container(`nb-${t}-${this.rand()}`) : null,
      memoryMiB: Math.round(this.between(3000, Math.min(30000, this.hardware.gpu.memoryTotal * 0.45))),
      startedAt: t,
      endsAt: t + this.between(10, 45) * 60,
      load: (now) => (Math.floor(now / 40 + phase) % 3 === 0 ? burst : 4),
    };
  }

  private start(t: number): void {
    this.started = true;
    const hw = this.hardware;
    if (this.role === "training") this.trainingJob = this.newTrainingJob(t, t - this.between(2, 30) * 3600);
    if (this.role === "inference")
      this.inferenceJobs = Array.from({ length: Math.ceil(this.gpuCount / 2) }, (_, p) => this.newInferenceJob(p, t));
    this.gpus = Array.from({ length: this.gpuCount }, (_, g) => {
      const slots: Slot[] =
        this.role === "notebooks"
          ? [
              { job: null, nextAt: t + (this.rand() < 0.6 ? 0 : this.between(0, 1200)) },
              { job: null, nextAt: t + this.between(600, 5400) },
            ]
          : [];
      return { vitals: staticGpu(this.name, g, hw.gpu), slots, u: 0, temperature: this.room, power: hw.gpu.powerIdle, ecc: 0 };
    });
    // One GPU of the second inference box has been logging corrected memory errors: something to find on its page.
    if (this.index === 5 && this.gpus[2]) this.gpus[2].ecc = 14;
    this.host.bootAt = t - this.between(3, 60) * 86400;
    this.host.rootUsed = this.between(0.25, 0.45) * 1.92 * TB;
    this.host.raidUsed = this.between(0.35, 0.7) * hw.dataDisk.total;
    this.host.docker = this.role === "idle" ? 12e9 : this.between(60e9, 220e9);
    this.host.memory = this.memoryTarget() * hw.memoryTotal;
  }

  private jobsOf(g: number, t: number): Job[] {
    if (this.role === "training") return this.trainingJob && t < this.trainingJob.endsAt ? [this.trainingJob] : [];
    if (this.role === "inference") return [this.inferenceJobs[Math.floor(g / 2)]!];
    if (this.role === "idle") return [];
    const jobs: Job[] = [];
    for (const slot of this.gpus[g]!.slots) {
      if (slot.job && t >= slot.job.endsAt) {
        slot.nextAt = t + this.between(3, 20) * 60;
        slot.job = null;
      }
      if (!slot.job && t >= slot.nextAt) slot.job = this.newNotebookJob(t);
      if (slot.job) jobs.push(slot.job);
    }
    return jobs;
  }

  private memoryTarget(): number {
    return { training: 0.42, inference: 0.3, notebooks: 0.2, idle: 0.04 }[this.role];
  }

  sample(seq: number, ts: Date, dtSeconds: number): Sample {
    const t = ts.getTime() / 1000;
    if (!this.started) this.start(t);
    const dt = Math.max(0.1, dtSeconds);
    // A finished training run: the box sits idle a few minutes, then the next one starts.
    if (this.trainingJob && t >= this.trainingJob.endsAt + 300) this.trainingJob = this.newTrainingJob(t);
    const first = seq === 0;
    let busyGpus = 0;
    const gpus = this.gpus.map((state, g) => {
      const jobs = this.jobsOf(g, t);
      if (jobs.length) busyGpus++;
      return this.gpuSample(state, g, jobs, t, dt, first);
    });
    return {
      seq,
      ts: ts.toISOString(),
      host: this.hostSample(t, dt, busyGpus, first),
      gpus,
      gpuSource: "nvml",
    };
  }

  private gpuSample(s: GpuState, g: number, jobs: Job[], t: number, dt: number, first: boolean): GpuVitals {
    const m = this.hardware.gpu;
    const hot = this.hotGpu === g;
    const target = clamp(
      jobs.reduce((sum, j) => sum + j.load(t), 0),
      0,
      100,
    );
    const jitter = target > 10 ? 7 : 1.5;
    s.u = first ? target : clamp(s.u + (target - s.u) * toward(dt, 4) + (this.rand() - 0.5) * jitter, 0, 100);
    // A clogged cold plate: the hot GPU runs some 10 °C above its neighbours and near 90 °C while it works.
    let tempTarget = this.room + s.u * m.heat * 1.05 + (jobs.length ? 4 : 0);
    if (hot) tempTarget = Math.max(tempTarget + 10, jobs.length ? 89 : this.room + 25);
    s.temperature = first ? tempTarget : s.temperature + (tempTarget - s.temperature) * toward(dt, 25) + (this.rand() - 0.5) * 0.8;
    const thermal = hot && s.temperature >= 86;
    const powerTarget = m.powerIdle + (m.powerLimit * 0.97 - m.powerIdle) * Math.pow(s.u / 100, 1.3) * (thermal ? 0.85 : 1);
    s.power = clamp(
      first ? powerTarget : s.power + (powerTarget - s.power) * toward(dt, 2) + (this.rand() - 0.5) * 12,
      m.powerIdle * 0.9,
      m.powerLimit,
    );
    const powerCapped = s.power >= m.powerLimit * 0.95;
    const working = jobs.length > 0 || s.u > 3;
    const smClock = !working
      ? m.idleClock
      : Math.round((m.maxSmClock * (thermal ? 0.72 : powerCapped ? 0.86 : 0.93 + this.rand() * 0.07)) / 15) * 15;
    const processes: GpuProcess[] = jobs.map((j) => ({
      pid: this.role === "training" ? j.pid + g : j.pid,
      name: j.name,
      user: j.user,
      // Notebooks grow into their memory over the first minutes; training and servers hold theirs from the start.
      usedMemoryMiB: Math.round(
        j.name === "jupyter-lab" || this.role === "notebooks" ? j.memoryMiB * clamp(0.3 + (t - j.startedAt) / 600, 0.3, 1) : j.memoryMiB,
      ),
      container: j.container,
      type: "compute",
    }));
    const used = Math.min(m.memoryTotal, processes.reduce((sum, p) => sum + (p.usedMemoryMiB ?? 0), 0) + (processes.length ? 520 : 4));
    const u = Math.round(s.u);
    const memoryUtilization = Math.round(s.u * (this.role === "inference" ? 0.75 : this.role === "training" ? 0.45 : 0.35));
    const temperature = Math.round(s.temperature);
    const fan = m.fans ? Math.round(clamp(30 + (s.temperature - 45) * 1.6, 30, 100)) : null;
    const throttleReasons = thermal ? ["sw_thermal_slowdown"] : powerCapped ? ["sw_power_cap"] : working ? [] : ["gpu_idle"];
    return {
      ...s.vitals,
      utilization: u,
      memoryUtilization,
      memoryUsed: used,
      memoryFree: m.memoryTotal - used,
      temperature,
      powerUsage: Math.round(s.power * 10) / 10,
      fanSpeed: fan,
      fanSpeeds: fan === null ? null : [fan],
      smClock,
      graphicsClock: smClock,
      memoryClock: working || m.hbm ? m.maxMemoryClock : 405,
      memoryTemperature: m.hbm ? temperature + 5 : null,
      pcieTxKBps: Math.round(working ? 1500 + s.u * 180 * this.between(0.6, 1.4) : this.rand() * 40),
      pcieRxKBps: Math.round(working ? 2500 + s.u * 260 * this.between(0.6, 1.4) : this.rand() * 60),
      decoderUtilization: m === L40S && working ? Math.round(this.between(8, 30)) : 0,
      pstate: working ? 0 : 8,
      throttleReasons,
      eccCorrected: s.ecc,
      processes,
    };
  }

  private hostSample(t: number, dt: number, busyGpus: number, first: boolean): SimulatedHost {
    const hw = this.hardware;
    const h = this.host;
    const share = this.gpuCount ? busyGpus / this.gpuCount : 0;
    const checkpoint = this.role === "training" && this.trainingJob !== null && checkpointing(t, 0);
    const cpuTarget =
      { training: 24, inference: 9, notebooks: 2 + 10 * share, idle: 0.8 }[this.role] * (this.role === "training" ? share : 1);
    h.cpu = first ? cpuTarget : clamp(h.cpu + (cpuTarget - h.cpu) * toward(dt, 8) + (this.rand() - 0.5) * 3, 0.2, 100);
    const running = (h.cpu / 100) * hw.cpuCores;
    h.load = first
      ? [running, running, running]
      : [
          h.load[0] + (running - h.load[0]) * toward(dt, 60),
          h.load[1] + (running - h.load[1]) * toward(dt, 300),
          h.load[2] + (running - h.load[2]) * toward(dt, 900),
        ];
    const memTarget = (this.memoryTarget() + (this.role === "notebooks" ? 0.15 * share : 0)) * hw.memoryTotal;
    h.memory = clamp(
      h.memory + (memTarget - h.memory) * toward(dt, 120) + (this.rand() - 0.5) * 0.004 * hw.memoryTotal,
      2 * GiB,
      hw.memoryTotal,
    );
    const busy = share > 0;
    const readBps = { training: 650e6, inference: 3e6, notebooks: 40e6, idle: 40e3 }[this.role] * (busy || this.role === "idle" ? 1 : 0.02);
    const writeBps = checkpoint ? 2.2e9 : { training: 25e6, inference: 2e6, notebooks: 8e6, idle: 20e3 }[this.role] * (busy ? 1 : 0.1);
    const diskWriteBps = writeBps * this.between(0.6, 1.4);
    if (this.role === "training") {
      // Checkpoints fill the RAID until the retention script trims it back.
      h.raidUsed += diskWriteBps * dt * 0.05;
      if (h.raidUsed > hw.dataDisk.total * 0.85) h.raidUsed = hw.dataDisk.total * 0.55;
    }
    h.rootUsed += 2000 * dt; // logs
    const disks: Disk[] = [
      { mount: "/", used: Math.round(h.rootUsed), total: 1.92 * TB, inodesUsed: Math.round(h.rootUsed / 60e3), inodesTotal: 122_093_568 },
      {
        mount: hw.dataDisk.mount,
        used: Math.round(h.raidUsed),
        total: hw.dataDisk.total,
        inodesUsed: Math.round(h.raidUsed / 2.5e6),
        inodesTotal: Math.round(hw.dataDisk.total / 16384),
      },
    ];
    if (this.role === "notebooks") disks.push({ mount: "/home", used: 61.8 * TB, total: 100 * TB, inodesUsed: null, inodesTotal: null });
    const netRx = { training: 180e6, inference: 30e6, notebooks: 6e6, idle: 15e3 }[this.role];
    const netTx = { training: 45e6, inference: 70e6, notebooks: 2e6, idle: 12e3 }[this.role];
    const cpuPerCore = Array.from({ length: hw.cpuCores }, () => Math.round(clamp(h.cpu * this.between(0.2, 1.8), 0, 100)));
    return {
      simulated: true,
      hostname: this.name,
      cpuPercent: Math.round(h.cpu * 10) / 10,
      load: [round2(h.load[0]), round2(h.load[1]), round2(h.load[2])],
      memoryUsed: Math.round(h.memory),
      memoryTotal: hw.memoryTotal,
      swapUsed: hw.swapTotal ? 180 * 2 ** 20 : 0,
      swapTotal: hw.swapTotal,
      uptimeSeconds: Math.round(t - h.bootAt),
      disks,
      diskReadBps: Math.round(readBps * this.between(0.7, 1.3)),
      diskWriteBps: Math.round(diskWriteBps),
      netRxBps: Math.round(netRx * (busy ? this.between(0.6, 1.4) : 0.05)),
      netTxBps: Math.round(netTx * (busy ? this.between(0.6, 1.4) : 0.05)),
      cpuPerCore,
      cpuTemperature: Math.round(38 + h.cpu * 0.35 + this.rand()),
      cpuModel: hw.cpuModel,
      cpuCores: hw.cpuCores,
      os: hw.os,
      kernel: hw.kernel,
      dockerDataBytes: Math.round(h.docker),
    };
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Every 20 minutes a training run evaluates and writes a checkpoint for about 40 s. */
function checkpointing(t: number, phase: number): boolean {
  return (t + phase) % 1200 < 40;
}

function staticGpu(worker: string, index: number, m: GpuModel): GpuVitals {
  const id = hexOf(`${worker}/gpu/${index}`, 32);
  // The bus ids of an 8-GPU HGX board.
  const bus = ["18", "2A", "3A", "5D", "9A", "AB", "BA", "DB"][index] ?? (0x10 + index).toString(16).toUpperCase();
  return {
    index,
    uuid: `GPU-${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
    name: m.name,
    driverVersion: "570.133.20",
    cudaVersion: "12.8",
    utilization: 0,
    memoryUtilization: 0,
    memoryUsed: 0,
    memoryTotal: m.memoryTotal,
    memoryFree: m.memoryTotal,
    temperature: null,
    powerUsage: null,
    powerLimit: m.powerLimit,
    fanSpeed: null,
    smClock: null,
    memoryClock: null,
    pcieTxKBps: null,
    pcieRxKBps: null,
    encoderUtilization: 0,
    decoderUtilization: 0,
    pstate: null,
    throttleReasons: [],
    eccCorrected: 0,
    eccUncorrected: 0,
    processes: [],
    lost: false,
    pciBusId: `00000000:${bus}:00.0`,
    serial: String(1650000000000 + (hash(`${worker}/serial/${index}`) % 1e9)),
    computeCapability: m.computeCapability,
    migMode: false,
    powerLimitDefault: m.powerLimit,
    memoryTemperature: null,
    fanSpeeds: null,
    graphicsClock: null,
    maxSmClock: m.maxSmClock,
    maxMemoryClock: m.maxMemoryClock,
    maxGraphicsClock: m.maxSmClock,
    pcieLinkGen: m.pcieGen,
    pcieLinkWidth: 16,
  };
}
