// Pure parsers of nvidia-smi's CSV and summary output: captured text in, GpuVitals out.
import type { GpuProcess, GpuVitals } from "../../../src/protocol/sample.ts";
import type { ProcessOwner } from "../gpu/processes.ts";
import { lostGpu } from "../gpu/lost.ts";

export { lostGpu };
import { decodeThrottleReasons as decodeReasonMask } from "../nvml/throttle.ts";
import type { GpuFieldKey, ResolvedField } from "./query.ts";

export function parseError(what: string, reason: string): Error {
  return new Error(`failed to parse nvidia-smi ${what}: ${reason}`);
}

/**
 * "No value" as nvidia-smi spells it: [N/A], [Not Supported], [Requested functionality has been
 * deprecated], [Insufficient Permissions]... all bracketed, except temperature.memory's bare N/A
 * and the empty string some columns print.
 */
export function isUnavailable(value: string): boolean {
  return value === "" || value === "N/A" || value === "Not Supported" || (value.startsWith("[") && value.endsWith("]"));
}

/**
 * nvidia-smi does not quote: values are joined with ", ". Only a product name could hold a comma,
 * so with the column count known, any surplus pieces belong to the free-text column.
 * Returns null when the line has too few values to be a row.
 */
export function splitRow(line: string, columns: number, freeTextColumn: number): string[] | null {
  const parts = line.split(", ");
  if (parts.length < columns || (parts.length > columns && freeTextColumn < 0)) return null;
  const surplus = parts.length - columns;
  if (surplus > 0) parts.splice(freeTextColumn, surplus + 1, parts.slice(freeTextColumn, freeTextColumn + surplus + 1).join(", "));
  return parts.map((p) => p.trim());
}

function numberOf(what: string, value: string): number | null {
  if (isUnavailable(value)) return null;
  // Number() would read "" as 0 and "0x10" as 16; nvidia-smi prints plain decimals (nounits).
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw parseError("--query-gpu", `${what} is ${JSON.stringify(value)}`);
  return Number(value);
}

function integerOf(what: string, value: string): number | null {
  const n = numberOf(what, value);
  if (n !== null && !Number.isInteger(n)) throw parseError("--query-gpu", `${what} is ${JSON.stringify(value)}`);
  return n;
}

function textOf(value: string): string | null {
  return isUnavailable(value) ? null : value;
}

/** "P0" (maximum performance) to "P15" as the number; [N/A] or "Unknown" as null. */
export function parsePstate(value: string): number | null {
  if (isUnavailable(value) || value === "Unknown") return null;
  const m = /^P(\d{1,2})$/.exec(value);
  if (!m) throw parseError("--query-gpu", `pstate is ${JSON.stringify(value)}`);
  return Number(m[1]);
}

/** "Enabled"/"Disabled"; [N/A] on boards without MIG. */
export function parseMigMode(value: string): boolean | null {
  if (isUnavailable(value)) return null;
  if (value === "Enabled") return true;
  if (value === "Disabled") return false;
  throw parseError("--query-gpu", `mig.mode.current is ${JSON.stringify(value)}`);
}

/**
 * "0x0000000000000044" -> ["sw_power_cap", "hw_thermal_slowdown"]: the same bits under the "event" and
 * the older "throttle" field name, named by the NVML source's table so both sources agree.
 */
export function decodeThrottleReasons(value: string): string[] {
  if (isUnavailable(value)) return [];
  if (!/^0x[0-9a-f]{1,16}$/i.test(value)) throw parseError("--query-gpu", `clocks event reasons are ${JSON.stringify(value)}`);
  const mask = BigInt(value);
  return decodeReasonMask(Number(mask & 0xffffffffn), Number(mask >> 32n));
}

/** "00000000:5D:00.0" and "0000:5d:00.0" name the same device; nvidia-smi prints both widths. */
export function sameBusId(a: string, b: string): boolean {
  const norm = (s: string) => {
    const m = /^([0-9a-f]+):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(s.trim());
    return m ? `${parseInt(m[1]!, 16)}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase() : s.trim().toLowerCase();
  };
  return norm(a) === norm(b);
}

/** A GPU nvidia-smi enumerates but cannot open: "Unable to determine the device handle for GPU0000:5D:00.0: Unknown Error". */
export interface UnreachableGpu {
  busId: string | null;
  message: string;
}

// "for GPU0000:5D:00.0", "for GPU 0000:0B:00.0", from 610 "for GPU1: 0000:34:00.0" (an index first).
const UNREACHABLE = /Unable to (?:determine|detect) the device handle for GPU/;
const BUS_ID = /[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]/;

export function parseUnreachable(line: string): UnreachableGpu | null {
  if (!UNREACHABLE.test(line)) return null;
  return { busId: BUS_ID.exec(line)?.[0] ?? null, message: line.trim() };
}

// A reset-required GPU answers every live value with this; it is as unusable as one off the bus.
const LOST_VALUE = /GPU requires reset|GPU is lost/i;
// A single "[Unknown Error]" can be one failed NVML call; only a row of nothing else means the GPU.
const UNKNOWN_ERROR = /Unknown Error/i;
// Known even for a lost GPU: the driver's records, not the GPU's answers.
const IDENTITY: ReadonlySet<GpuFieldKey> = new Set(["index", "uuid", "name", "pciBusId", "serial", "driverVersion"]);

function isLost(row: ReadonlyMap<GpuFieldKey, string>): boolean {
  const live = [...row].filter(([key]) => !IDENTITY.has(key)).map(([, value]) => value);
  if (live.some((v) => LOST_VALUE.test(v))) return true;
  return live.length > 0 && live.every(isUnavailable) && live.some((v) => UNKNOWN_ERROR.test(v));
}

function rowToVitals(row: ReadonlyMap<GpuFieldKey, string>, cudaVersion: string | null): GpuVitals {
  // A field this driver lacks reads as unavailable, so every column below has a value to parse.
  const v = (key: GpuFieldKey) => row.get(key) ?? "[N/A]";
  const num = (key: GpuFieldKey) => numberOf(key, v(key));
  const int = (key: GpuFieldKey) => integerOf(key, v(key));
  const index = int("index");
  if (index === null) throw parseError("--query-gpu", `index is ${JSON.stringify(v("index"))}`);
  const identity = {
    index,
    // Without a UUID the head could not tell this GPU from the next; the index at least is stable per boot.
    uuid: textOf(v("uuid")) ?? `GPU-unknown-${index}`,
    name: textOf(v("name")) ?? "unknown",
    driverVersion: textOf(v("driverVersion")),
    cudaVersion,
    pciBusId: textOf(v("pciBusId")),
    serial: textOf(v("serial")),
  };
  if (isLost(row)) return lostGpu(identity);
  return {
    ...identity,
    utilization: num("utilization"),
    memoryUtilization: num("memoryUtilization"),
    memoryUsed: num("memoryUsed"),
    memoryTotal: num("memoryTotal"),
    memoryFree: num("memoryFree"),
    temperature: num("temperature"),
    powerUsage: num("powerUsage"),
    powerLimit: num("powerLimit"),
    fanSpeed: num("fanSpeed"),
    smClock: num("smClock"),
    memoryClock: num("memoryClock"),
    // nvidia-smi has no query for PCIe throughput (only `dmon -s t`, a stream); NVML gives it.
    pcieTxKBps: null,
    pcieRxKBps: null,
    encoderUtilization: num("encoderUtilization"),
    decoderUtilization: num("decoderUtilization"),
    pstate: parsePstate(v("pstate")),
    throttleReasons: decodeThrottleReasons(v("throttleReasons")),
    eccCorrected: num("eccCorrected"),
    eccUncorrected: num("eccUncorrected"),
    processes: [],
    lost: false,
    computeCapability: textOf(v("computeCapability")),
    migMode: parseMigMode(v("migMode")),
    powerLimitDefault: num("powerLimitDefault"),
    memoryTemperature: num("memoryTemperature"),
    // fan.speed is one number for the board; how many fans and their speeds are not in the query.
    fanSpeeds: null,
    graphicsClock: num("graphicsClock"),
    maxSmClock: num("maxSmClock"),
    maxMemoryClock: num("maxMemoryClock"),
    maxGraphicsClock: num("maxGraphicsClock"),
    pcieLinkGen: int("pcieLinkGen"),
    pcieLinkWidth: int("pcieLinkWidth"),
  };
}

export interface GpuQueryResult {
  /** One per CSV row, in nvidia-smi's order (by index), with no processes yet. */
  gpus: GpuVitals[];
  /** GPUs nvidia-smi named in an error line instead of a row. */
  unreachable: UnreachableGpu[];
}

/** Output of `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`. */
export function parseGpuQuery(text: string, fields: readonly ResolvedField[], cudaVersion: string | null): GpuQueryResult {
  const gpus: GpuVitals[] = [];
  const unreachable: UnreachableGpu[] = [];
  const nameColumn = fields.findIndex((f) => f.key === "name");
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const lostLine = parseUnreachable(line);
    if (lostLine) {
      unreachable.push(lostLine);
      continue;
    }
    const values = splitRow(line, fields.length, nameColumn);
    if (!values) throw parseError("--query-gpu", `expected ${fields.length} values, got ${JSON.stringify(line)}`);
    gpus.push(rowToVitals(new Map(fields.map((f, i) => [f.key, values[i]!])), cudaVersion));
  }
  return { gpus, unreachable };
}

/** One line of `--query-compute-apps=gpu_uuid,pid,used_memory`. */
export interface ComputeApp {
  gpuUuid: string;
  pid: number;
  usedMemoryMiB: number | null;
}

export interface ComputeAppsResult {
  apps: ComputeApp[];
  unreachable: UnreachableGpu[];
}

export function parseComputeApps(text: string): ComputeAppsResult {
  const apps: ComputeApp[] = [];
  const unreachable: UnreachableGpu[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const lostLine = parseUnreachable(line);
    if (lostLine) {
      unreachable.push(lostLine);
      continue;
    }
    const values = splitRow(line, 3, -1);
    if (!values || !/^\d+$/.test(values[1]!))
      throw parseError("--query-compute-apps", `expected "gpu_uuid, pid, used_memory", got ${JSON.stringify(line)}`);
    const used = values[2]!;
    if (!isUnavailable(used) && !/^\d+$/.test(used)) throw parseError("--query-compute-apps", `used_memory is ${JSON.stringify(used)}`);
    // [N/A] for used memory on Windows (WDDM) and for some processes in containers.
    apps.push({ gpuUuid: values[0]!, pid: Number(values[1]), usedMemoryMiB: isUnavailable(used) ? null : Number(used) });
  }
  return { apps, unreachable };
}

/**
 * Gives each GPU its compute processes, named by `describe` (ProcessDirectory in the agent).
 * A process in two MIG instances of one GPU is listed twice with the same UUID: one entry, memory summed.
 * Apps on a GPU not in the list (it vanished between the two queries) are dropped.
 */
export function attachProcesses(
  gpus: readonly GpuVitals[],
  apps: readonly ComputeApp[],
  describe: (pid: number) => ProcessOwner,
): GpuVitals[] {
  const byGpu = new Map<string, Map<number, GpuProcess>>();
  for (const app of apps) {
    let procs = byGpu.get(app.gpuUuid);
    if (!procs) byGpu.set(app.gpuUuid, (procs = new Map()));
    const seen = procs.get(app.pid);
    if (seen) {
      seen.usedMemoryMiB = seen.usedMemoryMiB === null || app.usedMemoryMiB === null ? null : seen.usedMemoryMiB + app.usedMemoryMiB;
      continue;
    }
    // The query lists processes holding a compute context; a graphics-only one is not in it.
    procs.set(app.pid, { pid: app.pid, ...describe(app.pid), usedMemoryMiB: app.usedMemoryMiB, type: "compute" });
  }
  return gpus.map((gpu) => ({ ...gpu, processes: [...(byGpu.get(gpu.uuid)?.values() ?? [])] }));
}

export interface SummaryBanner {
  driverVersion: string | null;
  /** The newest CUDA the driver supports; null on drivers before 410, whose banner lacks it. */
  cudaVersion: string | null;
}

/**
 * The first lines of plain `nvidia-smi`:
 * "| NVIDIA-SMI 550.127.05   Driver Version: 550.127.05   CUDA Version: 12.4     |",
 * from 610 "| NVIDIA-SMI 610.57.04   KMD Version: 610.57.04   CUDA UMD Version: 13.3   |".
 */
export function parseSummaryBanner(text: string): SummaryBanner | null {
  // A version number, not "NVIDIA-SMI has failed because ...".
  if (!/NVIDIA-SMI\s+\d[\w.-]*/.test(text)) return null;
  const driver = /(?:Driver|KMD) Version:\s*([0-9][\w.-]*)/.exec(text)?.[1] ?? null;
  const cuda = /CUDA (?:UMD )?Version:\s*([0-9][\w.]*)/.exec(text)?.[1] ?? null;
  return { driverVersion: driver, cudaVersion: cuda };
}

/** `Field "compute_cap" is not a valid field to query.` -> "compute_cap". */
export function parseRefusedField(output: string): string | null {
  return /Field "([^"]+)" is not a valid field to query/.exec(output)?.[1] ?? null;
}
