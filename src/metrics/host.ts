// Host series: node_exporter's names where Vigil's reading is the same quantity, vigil_host_* where it is not.
import type { Disk, HostVitals } from "../protocol/sample.ts";
import type { Labels, MetricType } from "./exposition.ts";
import { reportingWorkers, type MetricsProvider, type ReportingWorker } from "./provider.ts";

interface HostField {
  name: string;
  type: MetricType;
  help: string;
  value: (h: HostVitals, ts: number) => number | null | undefined;
}

const minus = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : a - b);

/**
 * node_exporter's HELP text for its names. Derived ones are exact for Vigil's agent: it computes memoryUsed as
 * MemTotal - MemAvailable and swapUsed as SwapTotal - SwapFree from /proc/meminfo, so subtracting gives the
 * kernel's figures back; boot time is the sample's time less the uptime, to the second as /proc/stat has it.
 * No node_cpu_seconds_total, node_disk_*_bytes_total or node_network_*_bytes_total: the agent sends rates,
 * not the kernel's counters, so those are vigil_host_* rates.
 */
export const HOST_FIELDS: readonly HostField[] = [
  { name: "node_load1", type: "gauge", help: "1m load average.", value: (h) => h.load?.[0] },
  { name: "node_load5", type: "gauge", help: "5m load average.", value: (h) => h.load?.[1] },
  { name: "node_load15", type: "gauge", help: "15m load average.", value: (h) => h.load?.[2] },
  { name: "node_memory_MemTotal_bytes", type: "gauge", help: "Memory information field MemTotal_bytes.", value: (h) => h.memoryTotal },
  {
    name: "node_memory_MemAvailable_bytes",
    type: "gauge",
    help: "Memory information field MemAvailable_bytes.",
    value: (h) => minus(h.memoryTotal, h.memoryUsed),
  },
  { name: "node_memory_SwapTotal_bytes", type: "gauge", help: "Memory information field SwapTotal_bytes.", value: (h) => h.swapTotal },
  {
    name: "node_memory_SwapFree_bytes",
    type: "gauge",
    help: "Memory information field SwapFree_bytes.",
    value: (h) => minus(h.swapTotal, h.swapUsed),
  },
  {
    name: "node_boot_time_seconds",
    type: "gauge",
    help: "Node boot time, in unixtime.",
    value: (h, ts) => (h.uptimeSeconds == null ? null : Math.round(ts / 1000 - h.uptimeSeconds)),
  },
  {
    name: "vigil_host_uptime_seconds",
    type: "gauge",
    help: "Seconds since the host booted, as of its latest sample.",
    value: (h) => h.uptimeSeconds,
  },
  {
    name: "vigil_host_cpu_usage_percent",
    type: "gauge",
    help: "CPU busy time over the last sample interval, all cores together (in %).",
    value: (h) => h.cpuPercent,
  },
  { name: "vigil_host_cpu_cores", type: "gauge", help: "Logical CPUs.", value: (h) => h.cpuCores },
  {
    name: "vigil_host_cpu_temperature_celsius",
    type: "gauge",
    help: "Hottest CPU package or die temperature sensor (in C).",
    value: (h) => h.cpuTemperature,
  },
  {
    name: "vigil_host_memory_used_bytes",
    type: "gauge",
    help: "Memory in use: MemTotal less MemAvailable (in bytes).",
    value: (h) => h.memoryUsed,
  },
  {
    name: "vigil_host_disk_read_bytes_per_second",
    type: "gauge",
    help: "Bytes read from all block devices per second over the last sample interval.",
    value: (h) => h.diskReadBps,
  },
  {
    name: "vigil_host_disk_written_bytes_per_second",
    type: "gauge",
    help: "Bytes written to all block devices per second over the last sample interval.",
    value: (h) => h.diskWriteBps,
  },
  {
    name: "vigil_host_network_receive_bytes_per_second",
    type: "gauge",
    help: "Bytes received on the counted network interfaces per second over the last sample interval.",
    value: (h) => h.netRxBps,
  },
  {
    name: "vigil_host_network_transmit_bytes_per_second",
    type: "gauge",
    help: "Bytes sent on the counted network interfaces per second over the last sample interval.",
    value: (h) => h.netTxBps,
  },
  {
    name: "vigil_host_docker_data_bytes",
    type: "gauge",
    help: "Size of the Docker data directory (in bytes), refreshed every 5 minutes.",
    value: (h) => h.dockerDataBytes,
  },
];

interface DiskField {
  name: string;
  help: string;
  value: (d: Disk) => number | null | undefined;
}

/**
 * The agent's total is used + available to non-root users (as df counts it), not the raw size, so
 * node_filesystem_size_bytes would be wrong by the root reserve; available, inodes and free inodes are exact.
 */
export const DISK_FIELDS: readonly DiskField[] = [
  { name: "node_filesystem_avail_bytes", help: "Filesystem space available to non-root users in bytes.", value: (d) => d.total - d.used },
  { name: "node_filesystem_files", help: "Filesystem total file nodes.", value: (d) => d.inodesTotal },
  { name: "node_filesystem_files_free", help: "Filesystem total free file nodes.", value: (d) => minus(d.inodesTotal, d.inodesUsed) },
  { name: "vigil_host_filesystem_used_bytes", help: "Filesystem space in use (in bytes).", value: (d) => d.used },
  {
    name: "vigil_host_filesystem_size_bytes",
    help: "Filesystem space used plus available to non-root users, as df counts it (in bytes).",
    value: (d) => d.total,
  },
];

export function hostLabels(r: ReportingWorker): Labels {
  return { Hostname: r.latest.sample.host.hostname, worker: r.worker.name };
}

export const hostMetrics: MetricsProvider = (snapshot, out) => {
  const reporting = reportingWorkers(snapshot);
  for (const field of HOST_FIELDS) {
    const family = out.family(field.name, field.type, field.help);
    for (const r of reporting) family.add(hostLabels(r), field.value(r.latest.sample.host, Date.parse(r.latest.sample.ts)));
  }
  for (const field of DISK_FIELDS) {
    const family = out.family(field.name, "gauge", field.help);
    for (const r of reporting) {
      for (const d of r.latest.sample.host.disks) family.add({ ...hostLabels(r), mountpoint: d.mount }, field.value(d));
    }
  }
  const info = out.family(
    "vigil_host_info",
    "gauge",
    "The host's operating system, kernel and CPU model as labels; the value is always 1.",
  );
  for (const r of reporting) {
    const h = r.latest.sample.host;
    info.add({ ...hostLabels(r), os: h.os, kernel: h.kernel, cpu_model: h.cpuModel }, 1);
  }
};
