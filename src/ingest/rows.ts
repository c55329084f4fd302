// Converts between the wire sample and table rows, both ways (rows back to a sample rebuild the latest-state cache).
import type { GpuProcess, GpuVitals, HostVitals, Sample } from "../protocol/sample.ts";
import type { gpuProcesses, gpuSamples, gpus, hostSamples, workers } from "../db/schema/index.ts";

export type HostSampleRow = typeof hostSamples.$inferInsert;
export type GpuSampleRow = typeof gpuSamples.$inferInsert;
export type GpuProcessRow = typeof gpuProcesses.$inferInsert;

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
    cpuPerCore: h.cpuPerCore ?? null,
    cpuTemperature: h.cpuTemperature ?? null,
    dockerDataBytes: round(h.dockerDataBytes),
    gpuSource,
    gpuError: gpuError ?? null,
  };
}

export function processRows(gpuId: number, workerId: number, ts: Date, g: GpuVitals): GpuProcessRow[] {
  const seen = new Set<number>();
  const out: GpuProcessRow[] = [];
  for (const p of g.processes ?? []) {
    // One row per pid: a process listed twice (graphics and compute) is one holder of memory.
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push({
      gpuId,
      ts,
      pid: p.pid,
      workerId,
      name: p.name ?? null,
      user: p.user ?? null,
      container: p.container ?? null,
      usedMemoryMiB: round(p.usedMemoryMiB),
      type: p.type ?? null,
    });
  }
  return out;
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
    // Processes live in gpu_processes (every VIGIL_PROCESS_INTERVAL): here they would double a raw row's size (BENCHMARKS.md).
    processes: null,
    memoryTemperature: round(g.memoryTemperature),
    graphicsClockMHz: round(g.graphicsClock),
    fanSpeeds: g.fanSpeeds ? g.fanSpeeds.map((f) => Math.round(f)) : null,
    pcieLinkGen: round(g.pcieLinkGen),
    pcieLinkWidth: round(g.pcieLinkWidth),
    lost: g.lost ?? false,
  };
}

type HostSelect = typeof hostSamples.$inferSelect;
type GpuSelect = typeof gpuSamples.$inferSelect;
type GpuStatic = typeof gpus.$inferSelect;

/** What a worker reports about itself that does not change per sample (kept in workers.info). */
export interface WorkerStaticInfo {
  cpuModel: string | null;
  cpuCores: number | null;
  os: string | null;
  kernel: string | null;
  /** Kept with the worker so that its samples rebuilt after a head restart still say they are synthetic. */
  simulated?: true;
}

export function staticInfoOf(h: HostVitals): WorkerStaticInfo {
  const info: WorkerStaticInfo = { cpuModel: h.cpuModel ?? null, cpuCores: h.cpuCores ?? null, os: h.os ?? null, kernel: h.kernel ?? null };
  if (h.simulated === true) info.simulated = true;
  return info;
}

/** Rebuilds a wire sample from stored rows (the host row and the GPU rows of the same instant). */
export function sampleFromRows(
  worker: typeof workers.$inferSelect,
  h: HostSelect,
  gpuRows: { row: GpuSelect; gpu: GpuStatic }[],
  /** The newest recorded processes of a GPU (by row id), when kept apart from the samples. */
  processesOf?: (gpuId: number) => GpuProcess[] | undefined,
): Sample {
  const info = worker.info as Partial<WorkerStaticInfo>;
  return {
    seq: h.seq,
    ts: h.ts.toISOString(),
    host: {
      hostname: worker.hostname ?? worker.name,
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
      cpuPerCore: h.cpuPerCore,
      cpuTemperature: h.cpuTemperature,
      cpuModel: info.cpuModel ?? null,
      cpuCores: info.cpuCores ?? null,
      os: info.os ?? null,
      kernel: info.kernel ?? null,
      dockerDataBytes: h.dockerDataBytes,
      ...(info.simulated === true ? { simulated: true } : {}),
    },
    gpus: gpuRows
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
        processes: (processesOf?.(r.gpuId) ?? r.processes ?? []) as Sample["gpus"][number]["processes"],
        lost: r.lost,
        pciBusId: gpu.pciBusId,
        serial: gpu.serial,
        computeCapability: gpu.computeCapability,
        migMode: gpu.migMode,
        powerLimitDefault: gpu.powerLimitDefaultW,
        memoryTemperature: r.memoryTemperature,
        fanSpeeds: r.fanSpeeds,
        graphicsClock: r.graphicsClockMHz,
        maxSmClock: gpu.maxSmClockMHz,
        maxMemoryClock: gpu.maxMemoryClockMHz,
        maxGraphicsClock: gpu.maxGraphicsClockMHz,
        pcieLinkGen: r.pcieLinkGen,
        pcieLinkWidth: r.pcieLinkWidth,
      })),
    gpuSource: (h.gpuSource as Sample["gpuSource"]) ?? "none",
    ...(h.gpuError ? { gpuError: h.gpuError } : {}),
  };
}
