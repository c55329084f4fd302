// GPU series under dcgm-exporter's names, units, HELP text and labels, so dashboards built for DCGM read Vigil unchanged.
import { THROTTLE_REASONS } from "../../agent/collectors/nvml/throttle.ts";
import type { GpuVitals } from "../protocol/sample.ts";
import type { Labels, MetricType } from "./exposition.ts";
import { reportingWorkers, type MetricsProvider, type ReportingWorker } from "./provider.ts";

interface GpuField {
  name: string;
  type: MetricType;
  help: string;
  value: (g: GpuVitals) => number | null | undefined;
}

/**
 * One line per family, in the order of dcgm-exporter's etc/default-counters.csv, then the fields it leaves
 * commented out or to custom CSVs. HELP is dcgm-exporter's where its CSV has the field. Not exported: XID errors
 * (Vigil's agent does not read them), the DCGM_FI_PROF_* profiling fields (they need DCGM itself), energy and
 * NVLink counters (not collected).
 */
export const GPU_FIELDS: readonly GpuField[] = [
  { name: "DCGM_FI_DEV_SM_CLOCK", type: "gauge", help: "SM clock frequency (in MHz).", value: (g) => g.smClock },
  { name: "DCGM_FI_DEV_MEM_CLOCK", type: "gauge", help: "Memory clock frequency (in MHz).", value: (g) => g.memoryClock },
  { name: "DCGM_FI_DEV_MEMORY_TEMP", type: "gauge", help: "Memory temperature (in C).", value: (g) => g.memoryTemperature },
  { name: "DCGM_FI_DEV_GPU_TEMP", type: "gauge", help: "GPU temperature (in C).", value: (g) => g.temperature },
  { name: "DCGM_FI_DEV_POWER_USAGE", type: "gauge", help: "Power draw (in W).", value: (g) => g.powerUsage },
  // dcgm-exporter's CSV calls these counters of KB, but the DCGM field is NVML's nvmlDeviceGetPcieThroughput, a
  // rate in KB/s over a 20 ms window, which is what the agent reads: declared as the gauge it is.
  { name: "DCGM_FI_DEV_PCIE_TX_THROUGHPUT", type: "gauge", help: "PCIe TX throughput (in KB/s) via NVML.", value: (g) => g.pcieTxKBps },
  { name: "DCGM_FI_DEV_PCIE_RX_THROUGHPUT", type: "gauge", help: "PCIe RX throughput (in KB/s) via NVML.", value: (g) => g.pcieRxKBps },
  { name: "DCGM_FI_DEV_GPU_UTIL", type: "gauge", help: "GPU utilization (in %).", value: (g) => g.utilization },
  { name: "DCGM_FI_DEV_MEM_COPY_UTIL", type: "gauge", help: "Memory utilization (in %).", value: (g) => g.memoryUtilization },
  { name: "DCGM_FI_DEV_ENC_UTIL", type: "gauge", help: "Encoder utilization (in %).", value: (g) => g.encoderUtilization },
  { name: "DCGM_FI_DEV_DEC_UTIL", type: "gauge", help: "Decoder utilization (in %).", value: (g) => g.decoderUtilization },
  { name: "DCGM_FI_DEV_FB_FREE", type: "gauge", help: "Framebuffer memory free (in MiB).", value: (g) => g.memoryFree },
  { name: "DCGM_FI_DEV_FB_USED", type: "gauge", help: "Framebuffer memory used (in MiB).", value: (g) => g.memoryUsed },
  { name: "DCGM_FI_DEV_FB_TOTAL", type: "gauge", help: "Framebuffer memory total (in MiB).", value: (g) => g.memoryTotal },
  // The agent reads NVML's volatile totals (since the driver loaded); NVML's "corrected" and "uncorrected" are
  // DCGM's single-bit and double-bit counts.
  {
    name: "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL",
    type: "counter",
    help: "Total number of single-bit volatile ECC errors.",
    value: (g) => g.eccCorrected,
  },
  {
    name: "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
    type: "counter",
    help: "Total number of double-bit volatile ECC errors.",
    value: (g) => g.eccUncorrected,
  },
  { name: "DCGM_FI_DEV_FAN_SPEED", type: "gauge", help: "Fan speed for the device in percent 0-100.", value: (g) => g.fanSpeed },
  { name: "DCGM_FI_DEV_PSTATE", type: "gauge", help: "Performance state (P-State) 0-15. 0=highest", value: (g) => g.pstate },
  {
    name: "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS",
    type: "gauge",
    help: "Current clock throttle reasons (bitmask of DCGM_CLOCKS_THROTTLE_REASON_*).",
    value: (g) => (g.lost ? null : throttleMask(g.throttleReasons)),
  },
  // NVML's enforced limit (the minimum of all limiters) is what the agent reads, which DCGM names ENFORCED;
  // DCGM_FI_DEV_POWER_MGMT_LIMIT is the limit software set, usually equal but not the same reading.
  {
    name: "DCGM_FI_DEV_ENFORCED_POWER_LIMIT",
    type: "gauge",
    help: "Effective power limit that the driver enforces after taking into account all limiters (in W).",
    value: (g) => g.powerLimit,
  },
  {
    name: "DCGM_FI_DEV_POWER_MGMT_LIMIT_DEF",
    type: "gauge",
    help: "Default power management limit (in W).",
    value: (g) => g.powerLimitDefault,
  },
  { name: "DCGM_FI_DEV_MAX_SM_CLOCK", type: "gauge", help: "Maximum supported SM clock (in MHz).", value: (g) => g.maxSmClock },
  { name: "DCGM_FI_DEV_MAX_MEM_CLOCK", type: "gauge", help: "Maximum supported memory clock (in MHz).", value: (g) => g.maxMemoryClock },
  { name: "DCGM_FI_DEV_PCIE_LINK_GEN", type: "gauge", help: "PCIe current link generation.", value: (g) => g.pcieLinkGen },
  { name: "DCGM_FI_DEV_PCIE_LINK_WIDTH", type: "gauge", help: "PCIe current link width.", value: (g) => g.pcieLinkWidth },
  {
    name: "vigil_gpu_lost",
    type: "gauge",
    help: "1 when the GPU has fallen off the bus (NVML_ERROR_GPU_IS_LOST), else 0; its other series are absent then.",
    value: (g) => (g.lost === undefined ? null : g.lost ? 1 : 0),
  },
];

const REASON_BITS = new Map(THROTTLE_REASONS.map(([bit, name]) => [name, bit]));

/**
 * The sample's reason names back to NVML's bitmask, which DCGM reports unchanged. A name Vigil does not know
 * (from a script posting samples) makes the mask unknowable: no series rather than a wrong one.
 */
export function throttleMask(reasons: readonly string[]): number | null {
  // BigInt: the mask is 64 bits wide and JavaScript's bitwise operators stop at 32.
  let mask = 0n;
  for (const name of reasons) {
    const bit = REASON_BITS.get(name);
    const unknown = /^unknown_bit_(\d+)$/.exec(name);
    if (bit !== undefined) mask |= BigInt(bit);
    else if (unknown && Number(unknown[1]) < 64) mask |= 1n << BigInt(unknown[1]!);
    else return null;
  }
  return Number(mask);
}

/**
 * dcgm-exporter's label set, in its order: `gpu` (index), `UUID`, `pci_bus_id`, `device` (nvidiaN; the agent
 * knows the index, which is the device minor on all but unusual systems), `modelName`, `Hostname` (as the
 * agent reports it), `DCGM_FI_DRIVER_VERSION`; then `worker`, Vigil's unique name for the machine, since one
 * Vigil exports many hosts and two may share a hostname.
 */
export function gpuLabels(r: ReportingWorker, g: GpuVitals): Labels {
  return {
    gpu: g.index,
    UUID: g.uuid,
    pci_bus_id: g.pciBusId,
    device: `nvidia${g.index}`,
    modelName: g.name,
    Hostname: r.latest.sample.host.hostname,
    DCGM_FI_DRIVER_VERSION: g.driverVersion,
    worker: r.worker.name,
  };
}

export const gpuMetrics: MetricsProvider = (snapshot, out) => {
  const reporting = reportingWorkers(snapshot);
  for (const field of GPU_FIELDS) {
    const family = out.family(field.name, field.type, field.help);
    for (const r of reporting) for (const g of r.latest.sample.gpus) family.add(gpuLabels(r, g), field.value(g));
  }
};
