// Converts between the wire sample and table rows, both ways (rows back to a sample rebuild the latest-state cache).
import type { GpuVitals, HostVitals, Sample } from "../protocol/sample.ts";
import type { gpuSamples, hostSamples } from "../db/schema/index.ts";

export type HostSampleRow = typeof hostSamples.$inferInsert;
export type GpuSampleRow = typeof gpuSamples.$inferInsert;

/** Integer columns get rounded values: a float from a script must not fail the whole batch. */
const round = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v));

export function hostRow(
  workerId: number,
  ts: Date,
  seq: number,
  h: HostVitals,
  gpuSource: Sample["gpuSource"],
  gpuError?: string,
): HostSampleRow {
  return {
    workerId,
    ts,
    seq,
    cpuPercent: h.cpuPercent,
    load1: h.load?.[0] ?? null,
    load5: h.load?.[1] ?? null,
    load15: h.load?.[2] ?? null,
    memoryUsed: round(h.memoryUsed),
    memoryTotal: round(h.memoryTotal),
    swapUsed: round(h.swapUsed),
    swapTotal: round(h.swapTotal),
    uptimeSeconds: round(h.uptimeSeconds),
    diskReadBps: h.diskReadBps,
    diskWriteBps: h.diskWriteBps,
    netRxBps: h.netRxBps,
    netTxBps: h.netTxBps,
    disks: h.disks,
    gpuSource,
    gpuError: gpuError ?? null,
  };
}

export function gpuRow(gpuId: number, workerId: number, ts: Date, g: GpuVitals): GpuSampleRow {
  return {
    gpuId,
    ts,
    workerId,
    utilization: round(g.utilization),
    memoryUtilization: round(g.memoryUtilization),
    memoryUsedMiB: round(g.memoryUsed),
    memoryTotalMiB: round(g.memoryTotal),
    temperature: round(g.temperature),
    powerW: g.powerUsage,
    powerLimitW: g.powerLimit,
    fanSpeed: round(g.fanSpeed),
    smClockMHz: round(g.smClock),
    memoryClockMHz: round(g.memoryClock),
    pcieTxKBps: g.pcieTxKBps,
    pcieRxKBps: g.pcieRxKBps,
    encoderUtilization: round(g.encoderUtilization),
    decoderUtilization: round(g.decoderUtilization),
    pstate: round(g.pstate),
    throttleReasons: g.throttleReasons,
    eccCorrected: round(g.eccCorrected),
    eccUncorrected: round(g.eccUncorrected),
    processes: g.processes,
  };
}

type HostSelect = typeof hostSamples.$inferSelect;
type GpuSelect = typeof gpuSamples.$inferSelect;
interface GpuStatic {
  index: number;
  uuid: string;
  name: string;
  driverVersion: string | null;
  cudaVersion: string | null;
}

/** Rebuilds a wire sample from stored rows (the host row and the GPU rows of the same instant). */
export function sampleFromRows(hostname: string, h: HostSelect, gpus: { row: GpuSelect; gpu: GpuStatic }[]): Sample {
  return {
    seq: h.seq,
    ts: h.ts.toISOString(),
    host: {
      hostname,
      cpuPercent: h.cpuPercent,
      load: h.load1 === null || h.load5 === null || h.load15 === null ? null : [h.load1, h.load5, h.load15],
      memoryUsed: h.memoryUsed,
      memoryTotal: h.memoryTotal,
      swapUsed: h.swapUsed,
      swapTotal: h.swapTotal,
      uptimeSeconds: h.uptimeSeconds,
      disks: (h.disks ?? []) as Sample["host"]["disks"],
      diskReadBps: h.diskReadBps,
      diskWriteBps: h.diskWriteBps,
      netRxBps: h.netRxBps,
      netTxBps: h.netTxBps,
    },
    gpus: gpus
      .sort((a, b) => a.gpu.index - b.gpu.index)
      .map(({ row: r, gpu }) => ({
        index: gpu.index,
        uuid: gpu.uuid,
        name: gpu.name,
        driverVersion: gpu.driverVersion,
        cudaVersion: gpu.cudaVersion,
        utilization: r.utilization,
        memoryUtilization: r.memoryUtilization,
        memoryUsed: r.memoryUsedMiB,
        memoryTotal: r.memoryTotalMiB,
        memoryFree: r.memoryTotalMiB !== null && r.memoryUsedMiB !== null ? r.memoryTotalMiB - r.memoryUsedMiB : null,
        temperature: r.temperature,
        powerUsage: r.powerW,
        powerLimit: r.powerLimitW,
        fanSpeed: r.fanSpeed,
        smClock: r.smClockMHz,
        memoryClock: r.memoryClockMHz,
        pcieTxKBps: r.pcieTxKBps,
        pcieRxKBps: r.pcieRxKBps,
        encoderUtilization: r.encoderUtilization,
        decoderUtilization: r.decoderUtilization,
        pstate: r.pstate,
        throttleReasons: r.throttleReasons ?? [],
        eccCorrected: r.eccCorrected,
        eccUncorrected: r.eccUncorrected,
        processes: (r.processes ?? []) as Sample["gpus"][number]["processes"],
      })),
    gpuSource: (h.gpuSource as Sample["gpuSource"]) ?? "none",
    ...(h.gpuError ? { gpuError: h.gpuError } : {}),
  };
}
