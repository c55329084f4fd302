// The contract every GPU source (NVML, nvidia-smi) fulfils, so the agent can try them in order and use the first that works.
import type { GpuVitals } from "../../../src/protocol/sample.ts";

export type GpuSourceName = "nvml" | "nvidia-smi";

export interface GpuReading {
  /** Every GPU, by index. A GPU that fell off the bus is present with `lost: true` and null vitals. */
  gpus: GpuVitals[];
  /** One line when the set of GPUs changed since the previous reading (hot-plug, re-enumeration). */
  notice?: string;
}

export interface GpuSource {
  readonly name: GpuSourceName;
  /** Reads every GPU once. Throws only when the whole source broke (then the agent falls back). */
  collect(): Promise<GpuReading>;
  /** Releases the library or process (nvmlShutdown). Safe to call twice. */
  close(): void;
}

/**
 * The source cannot be used on this machine. `message` is one line a person can act on, e.g.
 * "NVML not found: libnvidia-ml.so.1: cannot open shared object file".
 */
export class GpuSourceUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GpuSourceUnavailable";
  }
}
