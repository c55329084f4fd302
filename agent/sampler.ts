// Builds wire samples from the collectors: one per interval, numbered by a per-agent sequence.
import type { Sample } from "../src/protocol/sample.ts";
import { createHostCollector } from "./collectors/host/index.ts";
import type { Logger } from "../src/log.ts";

export interface SamplerOptions {
  procRoot?: string;
  sysRoot?: string;
  /** First sequence number (a restarted agent continues from its spool's last one). */
  startSeq?: number;
  log?: Logger;
}

export interface Sampler {
  /** Takes a reading for the rate fields (CPU %, I/O) to have a previous value to compare with. */
  prime(): Promise<void>;
  next(): Promise<Sample>;
}

/** Why GPU fields are empty until the NVML and nvidia-smi collectors are built. */
const NO_GPU_SOURCE = "no GPU collector in this build";

export function createSampler(opts: SamplerOptions = {}): Sampler {
  const host = createHostCollector({ procRoot: opts.procRoot, sysRoot: opts.sysRoot });
  let seq = opts.startSeq ?? 0;
  const reported = new Set<string>();
  return {
    async prime() {
      await host.collect();
    },
    async next() {
      const ts = new Date().toISOString();
      const { vitals, timings } = await host.collect();
      for (const t of timings) {
        // Say once per collector that it fails, not every second.
        if (!t.ok && !reported.has(t.name)) {
          reported.add(t.name);
          opts.log?.warn("host collector failed; its fields are null", { collector: t.name, error: t.error });
        } else if (t.ok) reported.delete(t.name);
      }
      return { seq: seq++, ts, host: vitals, gpus: [], gpuSource: "none", gpuError: NO_GPU_SOURCE };
    },
  };
}
