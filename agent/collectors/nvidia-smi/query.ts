// The nvidia-smi command lines Vigil runs, and the one list of --query-gpu fields it asks for.
import type { GpuVitals } from "../../../src/protocol/sample.ts";

/**
 * The GpuVitals fields that come straight out of one --query-gpu column. (cudaVersion, the PCIe
 * throughput and the processes come from elsewhere; see parse.ts.)
 */
export type GpuFieldKey = keyof Omit<GpuVitals, "cudaVersion" | "pcieTxKBps" | "pcieRxKBps" | "processes" | "lost" | "fanSpeeds">;

export interface QueryField {
  readonly key: GpuFieldKey;
  /**
   * The names nvidia-smi knows this column by, preferred first. An older driver answers
   * `Field "x" is not a valid field to query.` to a name it lacks; the collector then tries the
   * next name, and with none left leaves the field out (its value is null).
   */
  readonly names: readonly string[];
  /** Without these a row cannot be told apart from another GPU, so the source cannot work. */
  readonly required?: true;
}

/**
 * Checked against `nvidia-smi --help-query-gpu` of drivers 465.27 and 590.48.01 (public captures
 * in utkuozdemir/nvidia_gpu_exporter). The order is the column order of the CSV.
 */
export const GPU_FIELDS: readonly QueryField[] = [
  { key: "index", names: ["index"], required: true },
  { key: "uuid", names: ["uuid"], required: true },
  // The one free-text column: the parser gives it any surplus ", " so a name with a comma survives.
  { key: "name", names: ["name"], required: true },
  { key: "pciBusId", names: ["pci.bus_id"] },
  { key: "serial", names: ["serial"] },
  { key: "driverVersion", names: ["driver_version"] },
  { key: "utilization", names: ["utilization.gpu"] },
  { key: "memoryUtilization", names: ["utilization.memory"] },
  { key: "memoryUsed", names: ["memory.used"] },
  { key: "memoryFree", names: ["memory.free"] },
  { key: "memoryTotal", names: ["memory.total"] },
  { key: "temperature", names: ["temperature.gpu"] },
  // HBM only; GDDR boards print N/A (without brackets, unlike every other column).
  { key: "memoryTemperature", names: ["temperature.memory"] },
  // Ampere and newer average this over one second; older boards report the instant value.
  { key: "powerUsage", names: ["power.draw"] },
  { key: "powerLimit", names: ["power.limit"] },
  { key: "powerLimitDefault", names: ["power.default_limit"] },
  // One number for the board: nvidia-smi has no per-fan query, so fanSpeeds stays null.
  { key: "fanSpeed", names: ["fan.speed"] },
  { key: "smClock", names: ["clocks.sm"] },
  { key: "graphicsClock", names: ["clocks.gr"] },
  { key: "memoryClock", names: ["clocks.mem"] },
  { key: "maxSmClock", names: ["clocks.max.sm"] },
  { key: "maxMemoryClock", names: ["clocks.max.mem"] },
  { key: "maxGraphicsClock", names: ["clocks.max.gr"] },
  // 590 marks the first name deprecated in favour of the second; both are still accepted there.
  { key: "pcieLinkGen", names: ["pcie.link.gen.current", "pcie.link.gen.gpucurrent"] },
  { key: "pcieLinkWidth", names: ["pcie.link.width.current"] },
  // Not in 465's list (only encoder.stats.* was); [N/A] on a GPU in MIG mode.
  { key: "encoderUtilization", names: ["utilization.encoder"] },
  { key: "decoderUtilization", names: ["utilization.decoder"] },
  { key: "pstate", names: ["pstate"] },
  // A hex bitmask of NVML's nvmlClocksEventReason* bits. Driver 535 renamed "throttle" to "event"
  // (utkuozdemir/nvidia_gpu_exporter#123); the old name is all that 470 and earlier accept.
  { key: "throttleReasons", names: ["clocks_event_reasons.active", "clocks_throttle_reasons.active"] },
  // Volatile: since the driver loaded, which is what "errors now" means to an operator.
  { key: "eccCorrected", names: ["ecc.errors.corrected.volatile.total"] },
  { key: "eccUncorrected", names: ["ecc.errors.uncorrected.volatile.total"] },
  // Absent before driver 510 (huggingface/candle#733 shows the refusal).
  { key: "computeCapability", names: ["compute_cap"] },
  { key: "migMode", names: ["mig.mode.current"] },
];

/** One column of the query as this machine's nvidia-smi accepts it. */
export interface ResolvedField {
  readonly key: GpuFieldKey;
  readonly name: string;
}

/** The preferred name of every field: what is asked first, before any driver has refused one. */
export function preferredFields(): ResolvedField[] {
  return GPU_FIELDS.map((f) => ({ key: f.key, name: f.names[0]! }));
}

/**
 * The field list after nvidia-smi refused `refused`: its next name, or the field left out.
 * Returns null when the refused name was the last one of a required field.
 */
export function withoutName(fields: readonly ResolvedField[], refused: string): ResolvedField[] | null {
  const at = fields.findIndex((f) => f.name === refused);
  if (at < 0) return null;
  const spec = GPU_FIELDS.find((f) => f.key === fields[at]!.key)!;
  const next = spec.names[spec.names.indexOf(refused) + 1];
  if (next === undefined && spec.required) return null;
  const out = [...fields];
  if (next === undefined) out.splice(at, 1);
  else out[at] = { key: spec.key, name: next };
  return out;
}

// nounits: "81559" rather than "81559 MiB"; noheader: every line is a GPU (or an error line).
const CSV_FORMAT = "--format=csv,noheader,nounits";

export function gpuQueryArgs(fields: readonly ResolvedField[]): string[] {
  return [`--query-gpu=${fields.map((f) => f.name).join(",")}`, CSV_FORMAT];
}

/**
 * gpu_uuid is the physical GPU's even for a process in a MIG instance, so processes join to GPUs
 * by it. used_memory is the short name of used_gpu_memory (both listed since 465).
 */
export const COMPUTE_APPS_FIELDS = ["gpu_uuid", "pid", "used_memory"] as const;

export const COMPUTE_APPS_ARGS: readonly string[] = [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(",")}`, CSV_FORMAT];

/**
 * No arguments: the summary table. Its banner is the only place nvidia-smi states the CUDA
 * version the driver supports ("CUDA Version: 12.4", "CUDA UMD Version: 13.3" from 610); there is
 * no --query-gpu field for it (`Field "cuda_version" is not a valid field to query.`).
 */
export const SUMMARY_ARGS: readonly string[] = [];
