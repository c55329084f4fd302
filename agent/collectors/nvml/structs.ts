// Byte layouts of the NVML structs and constants Vigil reads, each beside its declaration in nvml.h (NVML 12/13).
//
// Offsets are for x86-64 and aarch64 Linux (LP64: unsigned long long aligned to 8). 64-bit fields are read as two
// u32 words (NOTES.md: 18 ns against 86 ns through BigInt); memory sizes stay far below 2^53 bytes.

/** nvmlReturn_t values Vigil acts on. */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;
export const NVML_ERROR_FUNCTION_NOT_FOUND = 13;
export const NVML_ERROR_GPU_IS_LOST = 15;
export const NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25;

/**
 * typedef struct nvmlMemory_st {
 *     unsigned long long total;
 *     unsigned long long free;
 *     unsigned long long used;
 * } nvmlMemory_t;
 */
export const MEMORY_V1 = { size: 24, total: 0, free: 8, used: 16 } as const;

/**
 * typedef struct nvmlMemory_v2_st {
 *     unsigned int version;            // nvmlMemory_v2
 *     unsigned long long total;
 *     unsigned long long reserved;
 *     unsigned long long free;
 *     unsigned long long used;
 * } nvmlMemory_v2_t;
 * #define nvmlMemory_v2 NVML_STRUCT_VERSION(Memory, 2)   // sizeof | 2 << 24
 */
export const MEMORY_V2 = { size: 40, version: 0, total: 8, reserved: 16, free: 24, used: 32 } as const;
export const MEMORY_V2_VERSION = MEMORY_V2.size | (2 << 24); // 0x02000028

/**
 * typedef struct nvmlUtilization_st {
 *     unsigned int gpu;
 *     unsigned int memory;
 * } nvmlUtilization_t;
 */
export const UTILIZATION = { size: 8, gpu: 0, memory: 4 } as const;

/**
 * typedef struct nvmlProcessInfo_v1_st {     // for nvmlDevice{Compute,Graphics}RunningProcesses (no suffix)
 *     unsigned int pid;
 *     unsigned long long usedGpuMemory;      // bytes, or NVML_VALUE_NOT_AVAILABLE
 * } nvmlProcessInfo_v1_t;
 */
export const PROCESS_V1 = { size: 16, pid: 0, usedGpuMemory: 8 } as const;

/**
 * typedef struct nvmlProcessInfo_v2_st {     // for the _v2 and _v3 calls; no version field
 *     unsigned int pid;
 *     unsigned long long usedGpuMemory;
 *     unsigned int gpuInstanceId;            // 0xFFFFFFFF outside MIG
 *     unsigned int computeInstanceId;
 * } nvmlProcessInfo_v2_t, nvmlProcessInfo_t;
 */
export const PROCESS_V2 = { size: 24, pid: 0, usedGpuMemory: 8, gpuInstanceId: 16, computeInstanceId: 20 } as const;

/**
 * typedef struct nvmlPciInfo_st {
 *     char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];   // 16
 *     unsigned int domain;
 *     unsigned int bus;
 *     unsigned int device;
 *     unsigned int pciDeviceId;
 *     unsigned int pciSubSystemId;
 *     char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];            // 32, "00000000:18:00.0"
 * } nvmlPciInfo_t;
 */
export const PCI_INFO = {
  size: 68,
  busIdLegacy: 0,
  domain: 16,
  bus: 20,
  device: 24,
  pciDeviceId: 28,
  pciSubSystemId: 32,
  busId: 36,
  busIdLength: 32,
} as const;

/**
 * typedef struct nvmlFieldValue_st {
 *     unsigned int fieldId;          // in: NVML_FI_*
 *     unsigned int scopeId;          // in: 0 here ("unused" in older headers, must be 0)
 *     long long timestamp;
 *     long long latencyUsec;
 *     nvmlValueType_t valueType;
 *     nvmlReturn_t nvmlReturn;       // per field: check before value
 *     nvmlValue_t value;             // union of double / unsigned int / unsigned long / (un)signed long long / int
 * } nvmlFieldValue_t;
 */
export const FIELD_VALUE = {
  size: 40,
  fieldId: 0,
  scopeId: 4,
  timestamp: 8,
  latencyUsec: 16,
  valueType: 24,
  nvmlReturn: 28,
  value: 32,
} as const;

/** nvmlValueType_t */
export const VALUE_TYPE = { double: 0, unsignedInt: 1, unsignedLong: 2, unsignedLongLong: 3, signedLongLong: 4, signedInt: 5 } as const;

/** #define NVML_FI_DEV_MEMORY_TEMP 82  // Memory temperature for the device */
export const NVML_FI_DEV_MEMORY_TEMP = 82;

/** Buffer sizes from nvml.h: NVML_DEVICE_UUID_V2_BUFFER_SIZE, NVML_DEVICE_NAME_V2_BUFFER_SIZE (both 96),
 *  NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE (80), NVML_DEVICE_SERIAL_BUFFER_SIZE (30). One 96-byte buffer serves all. */
export const TEXT_BUFFER_SIZE = 96;

/** nvmlTemperatureSensors_t: NVML_TEMPERATURE_GPU = 0 */
export const NVML_TEMPERATURE_GPU = 0;
/** nvmlClockType_t */
export const CLOCK = { graphics: 0, sm: 1, memory: 2 } as const;
/** nvmlPcieUtilCounter_t */
export const PCIE_COUNTER = { tx: 0, rx: 1 } as const;
/** nvmlMemoryErrorType_t */
export const MEMORY_ERROR = { corrected: 0, uncorrected: 1 } as const;
/** nvmlEccCounterType_t */
export const ECC_COUNTER = { volatile: 0, aggregate: 1 } as const;
/** nvmlPstates_t: NVML_PSTATE_0 = 0 … NVML_PSTATE_15 = 15, NVML_PSTATE_UNKNOWN = 32 */
export const NVML_PSTATE_UNKNOWN = 32;
/** #define NVML_DEVICE_MIG_ENABLE 0x1 */
export const NVML_DEVICE_MIG_ENABLE = 1;

/** A u64 out of two little-endian u32 words starting at `byteOffset` (which must be a multiple of 4). */
export function readU64(words: Uint32Array, byteOffset: number): number {
  const i = byteOffset >>> 2;
  return words[i + 1]! * 4294967296 + words[i]!;
}

/** NVML_VALUE_NOT_AVAILABLE is (-1) stored in an unsigned long long: every bit set. */
export function isNotAvailable(words: Uint32Array, byteOffset: number): boolean {
  const i = byteOffset >>> 2;
  return words[i] === 0xffffffff && words[i + 1] === 0xffffffff;
}

/** The NUL-terminated ASCII/UTF-8 text at the start of `bytes` (at most `length` bytes). */
export function readCString(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(offset, end));
}
