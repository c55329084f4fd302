// The numeric metrics Vigil keeps history of: API name, column, unit; rollup tables, queries and CSV are all built from this list.

export type Scope = "gpu" | "host";

export interface MetricDef {
  /** Name in the API (the wire sample's field name where there is one). */
  name: string;
  /** Column in the raw table; rollups add _min, _avg, _max. */
  column: string;
  scope: Scope;
  unit: string;
  help: string;
}

const gpu = (name: string, column: string, unit: string, help: string): MetricDef => ({ name, column, scope: "gpu", unit, help });
const host = (name: string, column: string, unit: string, help: string): MetricDef => ({ name, column, scope: "host", unit, help });

/** Every numeric GPU vital in gpu_samples. Order is the order of columns in the API and CSV. */
export const GPU_METRICS: readonly MetricDef[] = [
  gpu("utilization", "utilization", "%", "time the GPU was busy"),
  gpu("memoryUtilization", "memory_utilization", "%", "time the memory controller was busy"),
  gpu("memoryUsed", "memory_used_mib", "MiB", "GPU memory in use"),
  gpu("memoryTotal", "memory_total_mib", "MiB", "GPU memory size"),
  gpu("temperature", "temperature", "°C", "GPU core temperature"),
  gpu("memoryTemperature", "memory_temperature", "°C", "HBM temperature"),
  gpu("powerUsage", "power_w", "W", "power draw"),
  gpu("powerLimit", "power_limit_w", "W", "enforced power limit"),
  gpu("fanSpeed", "fan_speed", "%", "fan speed"),
  gpu("smClock", "sm_clock_mhz", "MHz", "SM clock"),
  gpu("graphicsClock", "graphics_clock_mhz", "MHz", "graphics clock"),
  gpu("memoryClock", "memory_clock_mhz", "MHz", "memory clock"),
  gpu("pcieTxKBps", "pcie_tx_kbps", "KB/s", "PCIe transmit throughput"),
  gpu("pcieRxKBps", "pcie_rx_kbps", "KB/s", "PCIe receive throughput"),
  gpu("encoderUtilization", "encoder_utilization", "%", "video encoder use"),
  gpu("decoderUtilization", "decoder_utilization", "%", "video decoder use"),
  gpu("pstate", "pstate", "", "performance state (0 fastest)"),
  gpu("eccCorrected", "ecc_corrected", "errors", "corrected ECC errors since driver load"),
  gpu("eccUncorrected", "ecc_uncorrected", "errors", "uncorrected ECC errors since driver load"),
  gpu("pcieLinkGen", "pcie_link_gen", "", "current PCIe link generation"),
  gpu("pcieLinkWidth", "pcie_link_width", "lanes", "current PCIe link width"),
];

/** Every numeric host vital in host_samples. */
export const HOST_METRICS: readonly MetricDef[] = [
  host("cpuPercent", "cpu_percent", "%", "CPU busy, all cores"),
  host("load1", "load1", "", "1-minute load average"),
  host("load5", "load5", "", "5-minute load average"),
  host("load15", "load15", "", "15-minute load average"),
  host("memoryUsed", "memory_used", "B", "memory in use"),
  host("memoryTotal", "memory_total", "B", "memory size"),
  host("swapUsed", "swap_used", "B", "swap in use"),
  host("swapTotal", "swap_total", "B", "swap size"),
  host("uptimeSeconds", "uptime_seconds", "s", "time since boot"),
  host("diskReadBps", "disk_read_bps", "B/s", "disk reads"),
  host("diskWriteBps", "disk_write_bps", "B/s", "disk writes"),
  host("netRxBps", "net_rx_bps", "B/s", "network received"),
  host("netTxBps", "net_tx_bps", "B/s", "network sent"),
  host("cpuTemperature", "cpu_temperature", "°C", "CPU package temperature"),
  host("dockerDataBytes", "docker_data_bytes", "B", "size of Docker's data directory"),
];

export const ALL_METRICS: readonly MetricDef[] = [...GPU_METRICS, ...HOST_METRICS];

/** The three aggregates a rollup keeps of each metric. */
export const AGGREGATES = ["min", "avg", "max"] as const;
export type Aggregate = (typeof AGGREGATES)[number];
