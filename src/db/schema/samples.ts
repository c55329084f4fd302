// Time-series tables: one row per worker per sample for host vitals, one per GPU per sample for GPU vitals.
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, real, smallint, text, timestamp } from "drizzle-orm/pg-core";
import { gpus, workers } from "./fleet.ts";

export const hostSamples = pgTable(
  "host_samples",
  {
    workerId: integer("worker_id")
      .notNull()
      .references(() => workers.id, { onDelete: "cascade" }),
    ts: timestamp("ts", { withTimezone: true, mode: "date" }).notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    cpuPercent: real("cpu_percent"),
    load1: real("load1"),
    load5: real("load5"),
    load15: real("load15"),
    memoryUsed: bigint("memory_used", { mode: "number" }),
    memoryTotal: bigint("memory_total", { mode: "number" }),
    swapUsed: bigint("swap_used", { mode: "number" }),
    swapTotal: bigint("swap_total", { mode: "number" }),
    uptimeSeconds: bigint("uptime_seconds", { mode: "number" }),
    diskReadBps: real("disk_read_bps"),
    diskWriteBps: real("disk_write_bps"),
    netRxBps: real("net_rx_bps"),
    netTxBps: real("net_tx_bps"),
    disks: jsonb("disks").$type<unknown[]>(),
    cpuPerCore: real("cpu_per_core").array(),
    cpuTemperature: real("cpu_temperature"),
    dockerDataBytes: bigint("docker_data_bytes", { mode: "number" }),
    /** Which GPU source answered (nvml, nvidia-smi, none) and, for none, why. */
    gpuSource: text("gpu_source").notNull().default("none"),
    gpuError: text("gpu_error"),
  },
  // (worker, ts) is both the identity of a sample and the order every range query reads in.
  (t) => [primaryKey({ columns: [t.workerId, t.ts] })],
);

export const gpuSamples = pgTable(
  "gpu_samples",
  {
    gpuId: integer("gpu_id")
      .notNull()
      .references(() => gpus.id, { onDelete: "cascade" }),
    ts: timestamp("ts", { withTimezone: true, mode: "date" }).notNull(),
    workerId: integer("worker_id").notNull(),
    utilization: smallint("utilization"),
    memoryUtilization: smallint("memory_utilization"),
    memoryUsedMiB: integer("memory_used_mib"),
    memoryTotalMiB: integer("memory_total_mib"),
    temperature: smallint("temperature"),
    powerW: real("power_w"),
    powerLimitW: real("power_limit_w"),
    fanSpeed: smallint("fan_speed"),
    smClockMHz: integer("sm_clock_mhz"),
    memoryClockMHz: integer("memory_clock_mhz"),
    pcieTxKBps: real("pcie_tx_kbps"),
    pcieRxKBps: real("pcie_rx_kbps"),
    encoderUtilization: smallint("encoder_utilization"),
    decoderUtilization: smallint("decoder_utilization"),
    pstate: smallint("pstate"),
    throttleReasons: text("throttle_reasons").array(),
    eccCorrected: bigint("ecc_corrected", { mode: "number" }),
    eccUncorrected: bigint("ecc_uncorrected", { mode: "number" }),
    processes: jsonb("processes").$type<unknown[]>(),
    memoryTemperature: smallint("memory_temperature"),
    graphicsClockMHz: integer("graphics_clock_mhz"),
    fanSpeeds: smallint("fan_speeds").array(),
    pcieLinkGen: smallint("pcie_link_gen"),
    pcieLinkWidth: smallint("pcie_link_width"),
    /** NVML said GPU_IS_LOST: the GPU fell off the bus; the other vitals are null. */
    lost: boolean("lost").notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.gpuId, t.ts] }), index("gpu_samples_worker_ts_idx").on(t.workerId, t.ts)],
);
