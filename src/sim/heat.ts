// `vigil simulate --heat`: one GPU of one simulated worker held hot for a while, to watch an alert fire and recover end to end.
import { ConfigError } from "../config.ts";
import type { Sample } from "../protocol/sample.ts";
import type { SimulatedWorker } from "./fleet.ts";

export interface HeatSpec {
  /** 1-based worker number (sim-0001 is 1). */
  worker: number;
  gpu: number;
  /** Seconds after the simulation starts, and for how long. */
  startSeconds: number;
  durationSeconds: number;
  celsius: number;
}

/** `W:G@START+DURATION[=CELSIUS]`, e.g. `1:0@5+20=90`: sim-0001's GPU 0 at 90 °C from 5 s to 25 s after start. */
export function parseHeat(raw: string, label: string): HeatSpec {
  const m = /^(\d+):(\d+)@(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)(?:=(\d+(?:\.\d+)?))?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected WORKER:GPU@START+DURATION[=CELSIUS], e.g. 1:0@5+20=90`);
  const spec = {
    worker: Number(m[1]),
    gpu: Number(m[2]),
    startSeconds: Number(m[3]),
    durationSeconds: Number(m[4]),
    celsius: Number(m[5] ?? 90),
  };
  if (spec.worker < 1) throw new ConfigError(`${label}="${raw}": workers are numbered from 1 (sim-0001)`);
  if (spec.celsius > 150) throw new ConfigError(`${label}="${raw}": ${spec.celsius} °C is beyond any GPU`);
  return spec;
}

/** Wraps a worker: inside the window the GPU reports the given temperature (and a thermal slowdown), outside it what the worker says. */
export class HeatedWorker implements SimulatedWorker {
  private startedAt: number | null = null;

  constructor(
    private readonly inner: SimulatedWorker,
    private readonly spec: HeatSpec,
    private readonly clock: () => number = Date.now,
  ) {}

  get name(): string {
    return this.inner.name;
  }
  get goesOffline(): boolean | undefined {
    return this.inner.goesOffline;
  }
  get restartAllow(): readonly string[] | undefined {
    return this.inner.restartAllow;
  }

  sample(seq: number, ts: Date, dtSeconds: number): Sample {
    const s = this.inner.sample(seq, ts, dtSeconds);
    const now = this.clock();
    this.startedAt ??= now;
    const t = (now - this.startedAt) / 1000;
    const g = s.gpus.find((x) => x.index === this.spec.gpu);
    if (g && t >= this.spec.startSeconds && t < this.spec.startSeconds + this.spec.durationSeconds) {
      g.temperature = this.spec.celsius;
      if (!g.throttleReasons.includes("sw_thermal_slowdown")) g.throttleReasons = [...g.throttleReasons, "sw_thermal_slowdown"];
    }
    return s;
  }
}
