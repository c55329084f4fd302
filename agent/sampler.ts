// Builds wire samples from the collectors: host and GPU read together, one sample per interval, numbered by a per-agent sequence.
import type { Sample } from "../src/protocol/sample.ts";
import type { Logger } from "../src/log.ts";
import { createHostCollector } from "./collectors/host/index.ts";
import { GpuCollector } from "./collectors/gpu/chain.ts";

export interface SamplerOptions {
  procRoot?: string;
  sysRoot?: string;
  /** VIGIL_NVML_LIB and VIGIL_NVIDIA_SMI: where the GPU sources are, when not in the usual places. */
  nvmlLib?: string;
  nvidiaSmi?: string;
  /** VIGIL_NET_INCLUDE / VIGIL_NET_EXCLUDE: interface patterns; VIGIL_DOCKER_DIR: the Docker data root. */
  netInclude?: readonly string[];
  netExclude?: readonly string[];
  dockerDir?: string;
  /** First sequence number (a restarted agent continues from its spool's last one). */
  startSeq?: number;
  log?: Logger;
}

export interface Sampler {
  /** Takes a reading for the rate fields (CPU %, I/O) to have a previous value to compare with. */
  prime(): Promise<void>;
  next(): Promise<Sample>;
  /** Continues numbering from here (the spool knows the last number a previous run used). */
  setNextSeq(seq: number): void;
  /** Pids on a GPU in the latest sample (for job-aware restarts). */
  gpuPids(): number[];
  /** Releases NVML (nvmlShutdown) and stops the host's slow loops. */
  close(): void;
}

export function createSampler(opts: SamplerOptions = {}): Sampler {
  const host = createHostCollector({
    procRoot: opts.procRoot,
    sysRoot: opts.sysRoot,
    netInclude: opts.netInclude ? [...opts.netInclude] : undefined,
    netExclude: opts.netExclude ? [...opts.netExclude] : undefined,
    dockerDir: opts.dockerDir,
  });
  const gpu = new GpuCollector({ nvmlLib: opts.nvmlLib, nvidiaSmi: opts.nvidiaSmi, procRoot: opts.procRoot, log: opts.log });
  let seq = opts.startSeq ?? 0;
  let lastPids: number[] = [];
  const reported = new Set<string>();
  return {
    async prime() {
      await host.collect();
    },
    async next() {
      const ts = new Date().toISOString();
      const [{ vitals, timings }, sweep] = await Promise.all([host.collect(), gpu.collect()]);
      for (const t of timings) {
        // Say once per collector that it fails, not every second.
        if (!t.ok && !reported.has(t.name)) {
          reported.add(t.name);
          opts.log?.warn("host collector failed; its fields are null", { collector: t.name, error: t.error });
        } else if (t.ok) reported.delete(t.name);
      }
      lastPids = sweep.gpus.flatMap((g) => g.processes.map((p) => p.pid));
      return {
        seq: seq++,
        ts,
        host: vitals,
        gpus: sweep.gpus,
        gpuSource: sweep.gpuSource,
        ...(sweep.gpuError ? { gpuError: sweep.gpuError } : {}),
        ...(sweep.gpuNotice ? { gpuNotice: sweep.gpuNotice } : {}),
      };
    },
    setNextSeq(next) {
      seq = Math.max(seq, next);
    },
    gpuPids() {
      return lastPids;
    },
    close() {
      gpu.close();
      host.close();
    },
  };
}
