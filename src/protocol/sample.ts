// The wire sample (camelCase, units in the name or documented here): the TypeBox schema agent and head share.
import { Type as T, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** A value the source does not report is null, never 0. */
const num = () => T.Union([T.Number(), T.Null()]);
const int = () => T.Union([T.Integer(), T.Null()]);
const text = (maxLength = 256) => T.String({ maxLength });

export const DiskSchema = T.Object({
  mount: text(4096),
  used: T.Number({ minimum: 0 }), // bytes
  total: T.Number({ minimum: 0 }),
  inodesUsed: num(),
  inodesTotal: num(),
});

export const HostSchema = T.Object({
  hostname: text(255),
  cpuPercent: num(), // 0-100, all cores together
  load: T.Union([T.Tuple([T.Number(), T.Number(), T.Number()]), T.Null()]),
  memoryUsed: num(), // bytes
  memoryTotal: num(),
  swapUsed: num(),
  swapTotal: num(),
  uptimeSeconds: num(),
  disks: T.Array(DiskSchema, { maxItems: 256 }),
  diskReadBps: num(),
  diskWriteBps: num(),
  netRxBps: num(),
  netTxBps: num(),
  // Added with the full host collectors; optional so that scripts posting the design card's
  // original sample stay valid. Vigil's own agent always sends them (null where unknown).
  cpuPerCore: T.Optional(T.Union([T.Array(T.Number(), { maxItems: 4096 }), T.Null()])), // % per logical CPU
  cpuTemperature: T.Optional(num()), // °C, hottest CPU package/die sensor in hwmon
  cpuModel: T.Optional(T.Union([text(256), T.Null()])),
  cpuCores: T.Optional(int()), // logical CPUs
  os: T.Optional(T.Union([text(256), T.Null()])), // PRETTY_NAME of os-release
  kernel: T.Optional(T.Union([text(256), T.Null()])),
  dockerDataBytes: T.Optional(num()), // size of the Docker data directory, refreshed every 5 min
  simulated: T.Optional(T.Boolean()), // set by `vigil simulate`: synthetic data, labelled as such everywhere
});

export const GpuProcessSchema = T.Object({
  pid: T.Integer({ minimum: 0 }),
  name: T.Union([text(1024), T.Null()]),
  user: T.Union([text(256), T.Null()]),
  usedMemoryMiB: num(),
  container: T.Union([text(256), T.Null()]),
  type: T.Optional(T.Union([T.Literal("compute"), T.Literal("graphics"), T.Literal("both")])),
});

export const GpuSchema = T.Object({
  index: T.Integer({ minimum: 0, maximum: 1023 }),
  uuid: text(128),
  name: text(256),
  driverVersion: T.Union([text(64), T.Null()]),
  cudaVersion: T.Union([text(64), T.Null()]),
  utilization: num(), // %
  memoryUtilization: num(), // %
  memoryUsed: num(), // MiB
  memoryTotal: num(),
  memoryFree: num(),
  temperature: num(), // °C
  powerUsage: num(), // W
  powerLimit: num(),
  fanSpeed: num(), // %
  smClock: num(), // MHz
  memoryClock: num(),
  pcieTxKBps: num(),
  pcieRxKBps: num(),
  encoderUtilization: num(),
  decoderUtilization: num(),
  pstate: int(),
  throttleReasons: T.Array(text(64), { maxItems: 64 }),
  eccCorrected: num(),
  eccUncorrected: num(),
  processes: T.Array(GpuProcessSchema, { maxItems: 4096 }),
  // Added with the NVML collector (optional for the same reason as the host's additions).
  lost: T.Optional(T.Boolean()), // NVML_ERROR_GPU_IS_LOST: fell off the bus; other fields null
  pciBusId: T.Optional(T.Union([text(64), T.Null()])),
  serial: T.Optional(T.Union([text(64), T.Null()])),
  computeCapability: T.Optional(T.Union([text(16), T.Null()])), // "9.0"
  migMode: T.Optional(T.Union([T.Boolean(), T.Null()])), // current MIG mode enabled
  powerLimitDefault: T.Optional(num()), // W
  memoryTemperature: T.Optional(num()), // °C (HBM)
  fanSpeeds: T.Optional(T.Union([T.Array(T.Number(), { maxItems: 64 }), T.Null()])), // % per fan
  graphicsClock: T.Optional(num()), // MHz
  maxSmClock: T.Optional(num()),
  maxMemoryClock: T.Optional(num()),
  maxGraphicsClock: T.Optional(num()),
  pcieLinkGen: T.Optional(int()),
  pcieLinkWidth: T.Optional(int()),
});

export const SampleSchema = T.Object({
  seq: T.Integer({ minimum: 0 }),
  ts: T.String({ minLength: 10, maxLength: 40 }), // ISO 8601, checked by checkSample
  host: HostSchema,
  gpus: T.Array(GpuSchema, { maxItems: 64 }),
  gpuSource: T.Union([T.Literal("nvml"), T.Literal("nvidia-smi"), T.Literal("none")]),
  gpuError: T.Optional(text(1024)),
  /** Set when the GPU set changed since the last sample (hot-plug, a GPU lost), in one line. */
  gpuNotice: T.Optional(text(1024)),
});

export type Disk = Static<typeof DiskSchema>;
export type HostVitals = Static<typeof HostSchema>;
export type GpuProcess = Static<typeof GpuProcessSchema>;
export type GpuVitals = Static<typeof GpuSchema>;
export type Sample = Static<typeof SampleSchema>;

const compiled = TypeCompiler.Compile(SampleSchema);

export type SampleCheck = { ok: true; sample: Sample } | { ok: false; error: string };

/**
 * Validates untrusted JSON as a sample. The error names the first offending field by its JSON
 * path, so an agent's operator can tell what their build sends wrong.
 */
export function checkSample(value: unknown): SampleCheck {
  if (compiled.Check(value)) {
    const sample = value as Sample;
    if (Number.isNaN(Date.parse(sample.ts))) return { ok: false, error: `/ts: not a timestamp` };
    return { ok: true, sample };
  }
  const first = compiled.Errors(value).First();
  return { ok: false, error: first ? `${first.path || "/"}: ${first.message}` : "does not match the sample schema" };
}
