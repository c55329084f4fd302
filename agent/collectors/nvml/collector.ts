// The NVML GPU source: enumerates GPUs once, then each collect() reads every GPU's vitals and processes through bun:ffi.
import type { Pointer } from "bun:ffi";
import type { GpuProcess, GpuVitals } from "../../../src/protocol/sample.ts";
import { ProcessDirectory, type ProcessOwner } from "../gpu/processes.ts";
import { lostGpu } from "../gpu/lost.ts";
import { GpuSourceUnavailable, type GpuReading, type GpuSource } from "../gpu/source.ts";
import { loadNvml, nvmlErrorName, NvmlLoadError, type NvmlLib } from "./library.ts";
import {
  CLOCK,
  ECC_COUNTER,
  FIELD_VALUE,
  isNotAvailable,
  MEMORY_ERROR,
  MEMORY_V1,
  MEMORY_V2,
  MEMORY_V2_VERSION,
  NVML_DEVICE_MIG_ENABLE,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH,
  NVML_ERROR_FUNCTION_NOT_FOUND,
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_FI_DEV_MEMORY_TEMP,
  NVML_PSTATE_UNKNOWN,
  NVML_SUCCESS,
  NVML_TEMPERATURE_GPU,
  PCI_INFO,
  PCIE_COUNTER,
  PROCESS_V1,
  PROCESS_V2,
  readCString,
  readU64,
  TEXT_BUFFER_SIZE,
  VALUE_TYPE,
} from "./structs.ts";
import { decodeThrottleReasons } from "./throttle.ts";

/** The uuid prefix of a GPU lost before NVML gave its UUID (see nameUnidentified). */
const UNIDENTIFIED = "unidentified-";

export type NvmlOptions = {
  /** The library to open; the agent fills it from VIGIL_NVML_LIB. Default: the loader's libnvidia-ml.so.1. */
  libPath?: string;
  /** Where GPU processes are looked up (name, user, container); default /proc. */
  procRoot?: string;
};

/**
 * One bit per per-sweep call. A call that answered NOT_SUPPORTED on a device is not made on it again: the answer
 * depends on the board and driver, which do not change while the library is open.
 */
const CALL = {
  utilization: 1 << 0,
  memoryV2: 1 << 1,
  memoryV1: 1 << 2,
  temperature: 1 << 3,
  memoryTemperature: 1 << 4,
  power: 1 << 5,
  powerLimit: 1 << 6,
  fanV1: 1 << 7,
  fanV2: 1 << 8,
  smClock: 1 << 9,
  graphicsClock: 1 << 10,
  memoryClock: 1 << 11,
  pcie: 1 << 12,
  linkGen: 1 << 13,
  linkWidth: 1 << 14,
  encoder: 1 << 15,
  decoder: 1 << 16,
  pstate: 1 << 17,
  throttle: 1 << 18,
  ecc: 1 << 19,
  computeProcesses: 1 << 20,
  graphicsProcesses: 1 << 21,
} as const;

/** What is read once per GPU, when the GPUs are enumerated. */
interface StaticInfo {
  uuid: string;
  name: string;
  pciBusId: string | null;
  serial: string | null;
  computeCapability: string | null;
  migMode: boolean | null;
  memoryTotal: number | null; // MiB
  powerLimitDefault: number | null; // W
  maxSmClock: number | null;
  maxMemoryClock: number | null;
  maxGraphicsClock: number | null;
  /** null: per-fan calls unavailable, fall back to nvmlDeviceGetFanSpeed (fan 0). */
  fanCount: number | null;
}

interface Device {
  index: number;
  /** null when even the handle could not be had (the GPU was already lost at enumeration). */
  handle: Pointer | null;
  info: StaticInfo;
  /** CALL bits that answered NOT_SUPPORTED. */
  unsupported: number;
  /** As of the last sweep, so that the sweep that finds it lost can say so once. */
  lost: boolean;
}

type ProcessCall = (device: Pointer, count: Uint32Array, infos: Uint32Array) => number;
type ThrottleCall = (device: Pointer, reasons: Uint32Array) => number;

/** Thrown inside a device read when NVML answers GPU_IS_LOST; one preallocated instance, never seen outside. */
const GPU_LOST = new Error("NVML_ERROR_GPU_IS_LOST");

const MIB = 1024 * 1024;

/** Whole MiB, cut like nvidia-smi's (bytes / 1024 / 1024), so both GPU sources report the same numbers. */
const mib = (bytes: number) => Math.floor(bytes / MIB);

/** Out-parameter buffers built over explicit ArrayBuffers and passed as the typed array itself (NOTES.md, Bun 32054). */
function u32s(count: number): Uint32Array {
  return new Uint32Array(new ArrayBuffer(count * 4));
}

/**
 * Opens NVML and enumerates its GPUs. Throws GpuSourceUnavailable when the library is missing, is not a usable NVML,
 * or nvmlInit_v2 fails, so the agent can fall back to nvidia-smi.
 */
export function openNvml(opts: NvmlOptions = {}): GpuSource {
  const path = opts.libPath || "libnvidia-ml.so.1";
  let lib: NvmlLib;
  try {
    lib = loadNvml(path);
  } catch (err) {
    if (err instanceof NvmlLoadError && err.kind === "incomplete") throw new GpuSourceUnavailable(`NVML unusable: ${err.reason}`);
    throw new GpuSourceUnavailable(`NVML not found: ${err instanceof NvmlLoadError ? err.reason : String(err)}`);
  }
  const rc = lib.nvmlInit_v2();
  if (rc !== NVML_SUCCESS) {
    const why = lib.describe(rc);
    lib.close();
    throw new GpuSourceUnavailable(`NVML init failed: ${why}`);
  }
  try {
    return new NvmlSource(lib, new ProcessDirectory(opts.procRoot || "/proc"));
  } catch (err) {
    lib.nvmlShutdown();
    lib.close();
    throw err instanceof GpuSourceUnavailable ? err : new GpuSourceUnavailable(`NVML: ${err instanceof Error ? err.message : String(err)}`);
  }
}

class NvmlSource implements GpuSource {
  readonly name = "nvml" as const;
  private devices: Device[] = [];
  private closed = false;
  private readonly driverVersion: string | null;
  private readonly cudaVersion: string | null;

  // Reused out-parameters: one sweep allocates only the objects it returns.
  private readonly out1 = u32s(2);
  private readonly out2 = u32s(2);
  private readonly out1i = new Int32Array(this.out1.buffer);
  private readonly out2i = new Int32Array(this.out2.buffer);
  private readonly handleOut = new BigUint64Array(new ArrayBuffer(8));
  private readonly utilization = u32s(2);
  private readonly memory = u32s(MEMORY_V2.size / 4);
  private readonly field = u32s(FIELD_VALUE.size / 4);
  private readonly fieldDouble = new Float64Array(this.field.buffer);
  private readonly fieldInt = new Int32Array(this.field.buffer);
  private readonly text = new Uint8Array(new ArrayBuffer(TEXT_BUFFER_SIZE));
  private readonly pci = new Uint8Array(new ArrayBuffer(PCI_INFO.size));
  private processInfos = u32s((64 * PROCESS_V2.size) / 4);
  // readMemory's results (MiB), fields rather than a returned object so a sweep allocates nothing for them.
  private memoryUsed = 0;
  private memoryFree = 0;
  private memoryTotal = 0;

  // The newest variant of each versioned call this driver has, chosen once.
  private readonly computeProcesses: { call: ProcessCall; stride: number } | null;
  private readonly graphicsProcesses: { call: ProcessCall; stride: number } | null;
  private readonly throttleCall: ThrottleCall | null;

  // Process owners are looked up once per pid while the pid stays on a GPU: /proc reads are the costliest part of a
  // sweep. A pid listed in two sweeps in a row is taken to be the same process; the miss (it exited and another GPU
  // process got its pid within one interval) would show the old name until the pid leaves the GPUs.
  private owners = new Map<number, ProcessOwner>();
  private ownersSeen = new Map<number, ProcessOwner>();

  constructor(
    private readonly lib: NvmlLib,
    private readonly processDirectory: ProcessDirectory,
  ) {
    this.driverVersion = this.systemText();
    this.cudaVersion = this.cudaDriverVersion();
    this.computeProcesses = pickProcessCall(
      lib.nvmlDeviceGetComputeRunningProcesses_v3,
      lib.nvmlDeviceGetComputeRunningProcesses_v2,
      lib.nvmlDeviceGetComputeRunningProcesses,
    );
    this.graphicsProcesses = pickProcessCall(
      lib.nvmlDeviceGetGraphicsRunningProcesses_v3,
      lib.nvmlDeviceGetGraphicsRunningProcesses_v2,
      lib.nvmlDeviceGetGraphicsRunningProcesses,
    );
    // ClocksEventReasons (NVML 12.2+) replaces ClocksThrottleReasons, which newer headers mark deprecated.
    this.throttleCall = (lib.nvmlDeviceGetCurrentClocksEventReasons ??
      lib.nvmlDeviceGetCurrentClocksThrottleReasons) as ThrottleCall | null;
    const count = this.deviceCount();
    this.devices = this.enumerate(count);
  }

  async collect(): Promise<GpuReading> {
    if (this.closed) throw new Error("NVML source is closed");
    const notices: string[] = [];
    const count = this.deviceCount();
    if (count !== this.devices.length) {
      // Hot-plug or a GPU dropped from the driver's list: indexes may have shifted, so every handle is re-read.
      notices.push(`GPU count changed from ${this.devices.length} to ${count}`);
      this.devices = this.enumerate(count);
    }
    const gpus: GpuVitals[] = new Array(this.devices.length);
    for (let i = 0; i < this.devices.length; i++) {
      const device = this.devices[i]!;
      const wasLost = device.lost;
      gpus[i] = this.readDevice(device);
      if (device.lost && !wasLost)
        notices.push(
          `GPU ${device.index} (${device.info.uuid.startsWith(UNIDENTIFIED) ? "uuid unknown" : device.info.uuid}) is lost: ${nvmlErrorName(NVML_ERROR_GPU_IS_LOST)}`,
        );
    }
    // Forget owners of pids that left every GPU (swap the maps rather than allocate new ones).
    const previous = this.owners;
    this.owners = this.ownersSeen;
    previous.clear();
    this.ownersSeen = previous;
    return notices.length ? { gpus, notice: notices.join("; ") } : { gpus };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.nvmlShutdown();
    this.lib.close();
  }

  // ---- enumeration -------------------------------------------------------------------------------------------------

  private deviceCount(): number {
    const rc = this.lib.nvmlDeviceGetCount_v2(this.out1);
    if (rc !== NVML_SUCCESS) throw new Error(`nvmlDeviceGetCount_v2 failed: ${this.lib.describe(rc)}`);
    return this.out1[0]!;
  }

  private enumerate(count: number): Device[] {
    const devices: Device[] = [];
    for (let index = 0; index < count; index++) devices.push(this.describeDevice(index));
    return devices;
  }

  private describeDevice(index: number): Device {
    const info: StaticInfo = {
      uuid: "",
      name: "",
      pciBusId: null,
      serial: null,
      computeCapability: null,
      migMode: null,
      memoryTotal: null,
      powerLimitDefault: null,
      maxSmClock: null,
      maxMemoryClock: null,
      maxGraphicsClock: null,
      fanCount: null,
    };
    const device: Device = { index, handle: null, info, unsupported: 0, lost: false };
    const rc = this.lib.nvmlDeviceGetHandleByIndex_v2(index, this.handleOut);
    // Only GPU_IS_LOST is expected here; any other refusal also leaves a GPU we cannot read, reported the same way.
    if (rc !== NVML_SUCCESS) {
      this.nameUnidentified(device);
      return device;
    }
    const h = Number(this.handleOut[0]) as Pointer;
    device.handle = h;
    try {
      const lib = this.lib;
      info.uuid = this.deviceText(lib.nvmlDeviceGetUUID, h) ?? "";
      info.name = this.deviceText(lib.nvmlDeviceGetName, h) ?? "";
      info.serial = this.deviceText(lib.nvmlDeviceGetSerial, h);
      info.pciBusId = this.pciBusId(h);
      const out1 = this.out1;
      const out2 = this.out2;
      const cc = lib.nvmlDeviceGetCudaComputeCapability;
      if (cc && this.check(cc(h, out1, out2))) info.computeCapability = `${this.out1i[0]}.${this.out2i[0]}`;
      const mig = lib.nvmlDeviceGetMigMode;
      if (mig && this.check(mig(h, out1, out2))) info.migMode = out1[0] === NVML_DEVICE_MIG_ENABLE;
      if (this.check(lib.nvmlDeviceGetPowerManagementDefaultLimit(h, out1))) info.powerLimitDefault = out1[0]! / 1000;
      if (this.check(lib.nvmlDeviceGetMaxClockInfo(h, CLOCK.sm, out1))) info.maxSmClock = out1[0]!;
      if (this.check(lib.nvmlDeviceGetMaxClockInfo(h, CLOCK.memory, out1))) info.maxMemoryClock = out1[0]!;
      if (this.check(lib.nvmlDeviceGetMaxClockInfo(h, CLOCK.graphics, out1))) info.maxGraphicsClock = out1[0]!;
      const numFans = lib.nvmlDeviceGetNumFans;
      if (numFans && lib.nvmlDeviceGetFanSpeed_v2 && this.check(numFans(h, out1))) info.fanCount = out1[0]!;
      if (this.readMemory(device, h)) info.memoryTotal = this.memoryTotal;
    } catch (err) {
      // Lost halfway through: keep what was read; the next sweep reports it lost.
      if (err !== GPU_LOST) throw err;
    } finally {
      this.nameUnidentified(device);
    }
    return device;
  }

  /**
   * A GPU lost before its UUID could be read still needs an identity of its own: the head keys GPUs by (worker,
   * uuid), and two lost GPUs sharing "" would share one record and one alert. The PCI bus id is stable across
   * reboots where the index may not be; the index is the last resort.
   */
  private nameUnidentified(device: Device): void {
    if (device.info.uuid) return;
    device.info.uuid = `${UNIDENTIFIED}${device.info.pciBusId ?? `index-${device.index}`}`;
    if (!device.info.name) device.info.name = "unidentified GPU (lost before it could be read)";
  }

  /** True on SUCCESS; throws GPU_LOST on GPU_IS_LOST; false on any other answer. For calls made once. */
  private check(rc: number): boolean {
    if (rc === NVML_ERROR_GPU_IS_LOST) throw GPU_LOST;
    return rc === NVML_SUCCESS;
  }

  private deviceText(call: (device: Pointer, text: Uint8Array, length: number) => number, h: Pointer): string | null {
    return this.check(call(h, this.text, TEXT_BUFFER_SIZE)) ? readCString(this.text) : null;
  }

  private systemText(): string | null {
    const rc = this.lib.nvmlSystemGetDriverVersion(this.text, TEXT_BUFFER_SIZE);
    return rc === NVML_SUCCESS ? readCString(this.text) : null;
  }

  /** nvmlSystemGetCudaDriverVersion[_v2]: 12040 -> "12.4" (major = v / 1000, minor = v % 1000 / 10, as cuda.h's macros). */
  private cudaDriverVersion(): string | null {
    const call = this.lib.nvmlSystemGetCudaDriverVersion_v2 ?? this.lib.nvmlSystemGetCudaDriverVersion;
    if (!call || call(this.out1) !== NVML_SUCCESS) return null;
    const v = this.out1i[0]!;
    return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
  }

  private pciBusId(h: Pointer): string | null {
    const call = this.lib.nvmlDeviceGetPciInfo_v3 ?? this.lib.nvmlDeviceGetPciInfo_v2;
    if (!call || !this.check(call(h, this.pci))) return null;
    return readCString(this.pci, PCI_INFO.busId, PCI_INFO.busIdLength) || null;
  }

  // ---- one sweep ---------------------------------------------------------------------------------------------------

  private readDevice(device: Device): GpuVitals {
    if (device.handle === null) {
      device.lost = true;
      return this.lostVitals(device);
    }
    try {
      const vitals = this.readVitals(device, device.handle);
      device.lost = false;
      return vitals;
    } catch (err) {
      if (err !== GPU_LOST) throw err;
      device.lost = true;
      return this.lostVitals(device);
    }
  }

  /**
   * True on SUCCESS. NOT_SUPPORTED (or FUNCTION_NOT_FOUND) marks the call so it is skipped from now on; GPU_IS_LOST
   * abandons the whole device for this sweep; any other error is a null for this sweep only.
   */
  private ok(device: Device, call: number, rc: number): boolean {
    if (rc === NVML_SUCCESS) return true;
    if (rc === NVML_ERROR_NOT_SUPPORTED || rc === NVML_ERROR_FUNCTION_NOT_FOUND) device.unsupported |= call;
    else if (rc === NVML_ERROR_GPU_IS_LOST) throw GPU_LOST;
    return false;
  }

  private readVitals(d: Device, h: Pointer): GpuVitals {
    const lib = this.lib;
    const out1 = this.out1;
    const out2 = this.out2;
    const info = d.info;

    let utilization: number | null = null;
    let memoryUtilization: number | null = null;
    // First call of the sweep: a lost GPU is found here, before anything else is read.
    if (!(d.unsupported & CALL.utilization) && this.ok(d, CALL.utilization, lib.nvmlDeviceGetUtilizationRates(h, this.utilization))) {
      utilization = this.utilization[0]!;
      memoryUtilization = this.utilization[1]!;
    }

    const memory = this.readMemory(d, h);
    const memoryUsed = memory ? this.memoryUsed : null;
    const memoryFree = memory ? this.memoryFree : null;
    const memoryTotal = memory ? this.memoryTotal : info.memoryTotal;

    let temperature: number | null = null;
    if (!(d.unsupported & CALL.temperature) && this.ok(d, CALL.temperature, lib.nvmlDeviceGetTemperature(h, NVML_TEMPERATURE_GPU, out1)))
      temperature = out1[0]!;

    const memoryTemperature = this.readMemoryTemperature(d, h);

    let powerUsage: number | null = null;
    if (!(d.unsupported & CALL.power) && this.ok(d, CALL.power, lib.nvmlDeviceGetPowerUsage(h, out1))) powerUsage = out1[0]! / 1000;
    // Read every sweep, not once: an operator can change it at any time (nvidia-smi -pl), and it costs one call.
    let powerLimit: number | null = null;
    if (!(d.unsupported & CALL.powerLimit) && this.ok(d, CALL.powerLimit, lib.nvmlDeviceGetEnforcedPowerLimit(h, out1)))
      powerLimit = out1[0]! / 1000;

    const fanSpeeds = this.readFans(d, h);
    let fanSpeed: number | null = fanSpeeds ? (fanSpeeds[0] ?? null) : null;
    if (fanSpeeds === null && info.fanCount === null && lib.nvmlDeviceGetFanSpeed && !(d.unsupported & CALL.fanV1)) {
      // Drivers without per-fan calls report fan 0, which is also what nvidia-smi's summary shows.
      if (this.ok(d, CALL.fanV1, lib.nvmlDeviceGetFanSpeed(h, out1))) fanSpeed = out1[0]!;
    }

    const smClock = this.clock(d, h, CALL.smClock, CLOCK.sm);
    const graphicsClock = this.clock(d, h, CALL.graphicsClock, CLOCK.graphics);
    const memoryClock = this.clock(d, h, CALL.memoryClock, CLOCK.memory);

    let pcieTxKBps: number | null = null;
    let pcieRxKBps: number | null = null;
    if (!(d.unsupported & CALL.pcie) && this.ok(d, CALL.pcie, lib.nvmlDeviceGetPcieThroughput(h, PCIE_COUNTER.tx, out1))) {
      pcieTxKBps = out1[0]!;
      if (this.ok(d, CALL.pcie, lib.nvmlDeviceGetPcieThroughput(h, PCIE_COUNTER.rx, out1))) pcieRxKBps = out1[0]!;
    }
    let pcieLinkGen: number | null = null;
    if (!(d.unsupported & CALL.linkGen) && this.ok(d, CALL.linkGen, lib.nvmlDeviceGetCurrPcieLinkGeneration(h, out1)))
      pcieLinkGen = out1[0]!;
    let pcieLinkWidth: number | null = null;
    if (!(d.unsupported & CALL.linkWidth) && this.ok(d, CALL.linkWidth, lib.nvmlDeviceGetCurrPcieLinkWidth(h, out1)))
      pcieLinkWidth = out1[0]!;

    let encoderUtilization: number | null = null;
    if (!(d.unsupported & CALL.encoder) && this.ok(d, CALL.encoder, lib.nvmlDeviceGetEncoderUtilization(h, out1, out2)))
      encoderUtilization = out1[0]!;
    let decoderUtilization: number | null = null;
    if (!(d.unsupported & CALL.decoder) && this.ok(d, CALL.decoder, lib.nvmlDeviceGetDecoderUtilization(h, out1, out2)))
      decoderUtilization = out1[0]!;

    let pstate: number | null = null;
    if (
      !(d.unsupported & CALL.pstate) &&
      this.ok(d, CALL.pstate, lib.nvmlDeviceGetPerformanceState(h, out1)) &&
      out1[0] !== NVML_PSTATE_UNKNOWN
    )
      pstate = out1[0]!;

    let throttleReasons: string[] = [];
    const throttle = this.throttleCall;
    if (throttle && !(d.unsupported & CALL.throttle) && this.ok(d, CALL.throttle, throttle(h, out1)))
      throttleReasons = decodeThrottleReasons(out1[0]!, out1[1]!);

    // Volatile counters (since the driver was loaded), as nvidia-smi's "Volatile Uncorr. ECC" column: the aggregate
    // (lifetime) count would flag a board for ever after one error long fixed by a row remap.
    let eccCorrected: number | null = null;
    let eccUncorrected: number | null = null;
    if (
      !(d.unsupported & CALL.ecc) &&
      this.ok(d, CALL.ecc, lib.nvmlDeviceGetTotalEccErrors(h, MEMORY_ERROR.corrected, ECC_COUNTER.volatile, out1))
    ) {
      eccCorrected = readU64(out1, 0);
      if (this.ok(d, CALL.ecc, lib.nvmlDeviceGetTotalEccErrors(h, MEMORY_ERROR.uncorrected, ECC_COUNTER.volatile, out1)))
        eccUncorrected = readU64(out1, 0);
    }

    const processes: GpuProcess[] = [];
    this.readProcesses(d, h, CALL.computeProcesses, this.computeProcesses, "compute", processes);
    this.readProcesses(d, h, CALL.graphicsProcesses, this.graphicsProcesses, "graphics", processes);

    return {
      index: d.index,
      uuid: info.uuid,
      name: info.name,
      driverVersion: this.driverVersion,
      cudaVersion: this.cudaVersion,
      utilization,
      memoryUtilization,
      memoryUsed,
      memoryTotal,
      memoryFree,
      temperature,
      powerUsage,
      powerLimit,
      fanSpeed,
      smClock,
      memoryClock,
      pcieTxKBps,
      pcieRxKBps,
      encoderUtilization,
      decoderUtilization,
      pstate,
      throttleReasons,
      eccCorrected,
      eccUncorrected,
      processes,
      lost: false,
      pciBusId: info.pciBusId,
      serial: info.serial,
      computeCapability: info.computeCapability,
      migMode: info.migMode,
      powerLimitDefault: info.powerLimitDefault,
      memoryTemperature,
      fanSpeeds,
      graphicsClock,
      maxSmClock: info.maxSmClock,
      maxMemoryClock: info.maxMemoryClock,
      maxGraphicsClock: info.maxGraphicsClock,
      pcieLinkGen,
      pcieLinkWidth,
    };
  }

  /** A GPU that fell off the bus: what identifies it stays (to find the board), every reading is null. */
  private lostVitals(d: Device): GpuVitals {
    const info = d.info;
    return lostGpu({
      index: d.index,
      uuid: info.uuid,
      name: info.name,
      driverVersion: this.driverVersion,
      cudaVersion: this.cudaVersion,
      pciBusId: info.pciBusId,
      serial: info.serial,
    });
  }

  /**
   * Used/free/total MiB into memoryUsed/memoryFree/memoryTotal; false when unknown. nvmlMemory_v2_t where the driver
   * has it (Beszel's lesson: v1 "used" includes the memory the driver reserves, so an idle GPU looked busy), else
   * nvmlMemory_t.
   */
  private readMemory(d: Device, h: Pointer): boolean {
    const m = this.memory;
    const v2 = this.lib.nvmlDeviceGetMemoryInfo_v2;
    if (v2 && !(d.unsupported & CALL.memoryV2)) {
      m[0] = MEMORY_V2_VERSION;
      const rc = v2(h, m);
      // A driver that knows the call but not this struct version answers ARGUMENT_VERSION_MISMATCH: use v1 from now on.
      if (this.ok(d, CALL.memoryV2, rc === NVML_ERROR_ARGUMENT_VERSION_MISMATCH ? NVML_ERROR_NOT_SUPPORTED : rc)) {
        this.memoryUsed = mib(readU64(m, MEMORY_V2.used));
        this.memoryFree = mib(readU64(m, MEMORY_V2.free));
        this.memoryTotal = mib(readU64(m, MEMORY_V2.total));
        return true;
      }
      if (!(d.unsupported & CALL.memoryV2)) return false; // a passing error, not a missing feature
    }
    const v1 = this.lib.nvmlDeviceGetMemoryInfo;
    if (v1 && !(d.unsupported & CALL.memoryV1) && this.ok(d, CALL.memoryV1, v1(h, m))) {
      this.memoryUsed = mib(readU64(m, MEMORY_V1.used));
      this.memoryFree = mib(readU64(m, MEMORY_V1.free));
      this.memoryTotal = mib(readU64(m, MEMORY_V1.total));
      return true;
    }
    return false;
  }

  /** HBM temperature through the field-value API (NVML_FI_DEV_MEMORY_TEMP); boards without a sensor answer per field. */
  private readMemoryTemperature(d: Device, h: Pointer): number | null {
    const call = this.lib.nvmlDeviceGetFieldValues;
    if (!call || d.unsupported & CALL.memoryTemperature) return null;
    const f = this.field;
    f.fill(0);
    f[FIELD_VALUE.fieldId / 4] = NVML_FI_DEV_MEMORY_TEMP;
    if (!this.ok(d, CALL.memoryTemperature, call(h, 1, f))) return null;
    if (!this.ok(d, CALL.memoryTemperature, f[FIELD_VALUE.nvmlReturn / 4]!)) return null;
    const at = FIELD_VALUE.value;
    switch (f[FIELD_VALUE.valueType / 4]) {
      case VALUE_TYPE.double:
        return this.fieldDouble[at / 8]!;
      case VALUE_TYPE.unsignedInt:
        return f[at / 4]!;
      case VALUE_TYPE.signedInt:
        return this.fieldInt[at / 4]!;
      case VALUE_TYPE.unsignedLong:
      case VALUE_TYPE.unsignedLongLong:
      case VALUE_TYPE.signedLongLong:
        return readU64(f, at);
      default:
        return null;
    }
  }

  private readFans(d: Device, h: Pointer): number[] | null {
    const count = d.info.fanCount;
    const call = this.lib.nvmlDeviceGetFanSpeed_v2;
    if (!count || !call || d.unsupported & CALL.fanV2) return null;
    const speeds: number[] = [];
    for (let fan = 0; fan < count; fan++) {
      if (!this.ok(d, CALL.fanV2, call(h, fan, this.out1))) return null;
      speeds.push(this.out1[0]!);
    }
    return speeds;
  }

  private clock(d: Device, h: Pointer, call: number, type: number): number | null {
    if (d.unsupported & call || !this.ok(d, call, this.lib.nvmlDeviceGetClockInfo(h, type, this.out1))) return null;
    return this.out1[0]!;
  }

  /**
   * Appends one process list to `into`. A pid already there (a process both computing and drawing) becomes "both";
   * NVML reports the process's whole memory in each list, so the amounts are not added.
   */
  private readProcesses(
    d: Device,
    h: Pointer,
    bit: number,
    variant: { call: ProcessCall; stride: number } | null,
    type: "compute" | "graphics",
    into: GpuProcess[],
  ): void {
    if (!variant || d.unsupported & bit) return;
    const count = this.out2;
    let rc = NVML_ERROR_INSUFFICIENT_SIZE;
    // Ask with the buffer we have (one call in the usual case); when it is short NVML says how many there are.
    // Processes start between the two calls, hence the slack and the few tries.
    for (let attempt = 0; attempt < 3 && rc === NVML_ERROR_INSUFFICIENT_SIZE; attempt++) {
      count[0] = Math.floor(this.processInfos.byteLength / variant.stride);
      rc = variant.call(h, count, this.processInfos);
      if (rc === NVML_ERROR_INSUFFICIENT_SIZE) this.processInfos = u32s(((count[0]! + 16) * variant.stride) / 4);
    }
    if (!this.ok(d, bit, rc)) return;
    const infos = this.processInfos;
    const n = count[0]!;
    const existing = into.length;
    for (let i = 0; i < n; i++) {
      const at = i * variant.stride;
      const pid = infos[at / 4]!;
      const usedMemoryMiB = isNotAvailable(infos, at + 8) ? null : mib(readU64(infos, at + 8));
      let merged = false;
      for (let j = 0; j < existing; j++) {
        const p = into[j]!;
        if (p.pid !== pid) continue;
        p.type = "both";
        if (p.usedMemoryMiB === null) p.usedMemoryMiB = usedMemoryMiB;
        merged = true;
        break;
      }
      if (merged) continue;
      const owner = this.owner(pid);
      into.push({ pid, name: owner.name, user: owner.user, usedMemoryMiB, container: owner.container, type });
    }
  }

  private owner(pid: number): ProcessOwner {
    let owner = this.ownersSeen.get(pid) ?? this.owners.get(pid);
    if (!owner) owner = this.processDirectory.describe(pid);
    this.ownersSeen.set(pid, owner);
    return owner;
  }
}

/** The newest process-list variant present: _v3 and _v2 fill nvmlProcessInfo_t (24 B), the unversioned one v1 (16 B). */
function pickProcessCall(v3: unknown, v2: unknown, v1: unknown): { call: ProcessCall; stride: number } | null {
  if (v3) return { call: v3 as ProcessCall, stride: PROCESS_V2.size };
  if (v2) return { call: v2 as ProcessCall, stride: PROCESS_V2.size };
  if (v1) return { call: v1 as ProcessCall, stride: PROCESS_V1.size };
  return null;
}
