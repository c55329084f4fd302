// Picks the GPU source for this machine: NVML first, then nvidia-smi, then none with the reason; re-probes now and then.
import type { GpuVitals, Sample } from "../../../src/protocol/sample.ts";
import type { Logger } from "../../../src/log.ts";
import { openNvml } from "../nvml/index.ts";
import { openNvidiaSmi } from "../nvidia-smi/index.ts";
import { GpuSourceUnavailable, type GpuSource } from "./source.ts";

export interface GpuChainOptions {
  /** VIGIL_NVML_LIB: path of libnvidia-ml (default: the loader finds libnvidia-ml.so.1). */
  nvmlLib?: string;
  /** VIGIL_NVIDIA_SMI: path of nvidia-smi (default: found on PATH). */
  nvidiaSmi?: string;
  procRoot?: string;
  log?: Logger;
  /** With no source, how often to look again (a driver installed or loaded after the agent started). */
  reprobeMs?: number;
}

export interface GpuSweep {
  gpus: GpuVitals[];
  gpuSource: Sample["gpuSource"];
  gpuError?: string;
  gpuNotice?: string;
}

type Opener = { name: GpuSource["name"]; open: () => Promise<GpuSource> | GpuSource };

export class GpuCollector {
  private source: GpuSource | undefined;
  private reasons: string[] = [];
  private probedAt = -Infinity;
  private readonly openers: Opener[];
  private readonly reprobeMs: number;

  constructor(
    private readonly opts: GpuChainOptions = {},
    openers?: Opener[],
  ) {
    this.reprobeMs = opts.reprobeMs ?? 5 * 60_000;
    this.openers = openers ?? [
      { name: "nvml", open: () => openNvml({ libPath: opts.nvmlLib, procRoot: opts.procRoot }) },
      { name: "nvidia-smi", open: () => openNvidiaSmi({ path: opts.nvidiaSmi, procRoot: opts.procRoot }) },
    ];
  }

  get active(): GpuSource["name"] | "none" {
    return this.source?.name ?? "none";
  }

  /** Tries each source in order; the first that opens is used until it breaks. */
  private async probe(): Promise<void> {
    this.probedAt = Date.now();
    const reasons: string[] = [];
    for (const o of this.openers) {
      try {
        this.source = await o.open();
        if (this.reasons.length || reasons.length) this.opts.log?.info("GPU source selected", { source: o.name, skipped: reasons });
        this.reasons = [];
        return;
      } catch (err) {
        reasons.push(err instanceof GpuSourceUnavailable ? err.message : `${o.name} failed: ${(err as Error).message}`);
      }
    }
    if (reasons.join() !== this.reasons.join()) this.opts.log?.warn("no GPU source; GPU fields stay empty", { reasons });
    this.reasons = reasons;
  }

  async collect(): Promise<GpuSweep> {
    if (!this.source && Date.now() - this.probedAt >= this.reprobeMs) await this.probe();
    const source = this.source;
    if (!source) return { gpus: [], gpuSource: "none", gpuError: this.reasons.join("; ") || "no GPU source" };
    try {
      const reading = await source.collect();
      return { gpus: reading.gpus, gpuSource: source.name, ...(reading.notice ? { gpuNotice: reading.notice } : {}) };
    } catch (err) {
      // The whole source broke (driver unloaded, tool vanished): drop it and fall back from the top.
      this.opts.log?.error("GPU source failed; falling back", { source: source.name, error: err });
      source.close();
      this.source = undefined;
      this.probedAt = -Infinity;
      await this.probe();
      const next = this.source as GpuSource | undefined;
      if (!next)
        return { gpus: [], gpuSource: "none", gpuError: `${source.name} failed: ${(err as Error).message}; ${this.reasons.join("; ")}` };
      const reading = await next.collect();
      return { gpus: reading.gpus, gpuSource: next.name, gpuNotice: `GPU source changed from ${source.name} to ${next.name}` };
    }
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }
}
