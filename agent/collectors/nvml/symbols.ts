// The raw bun:ffi symbol tables of NVML: the core every supported driver has, and newer calls each loaded on its own.
//
// nvmlReturn_t and the other NVML enums are C enums (32 bits); nvmlDevice_t is an opaque pointer. Out-parameters are
// "ptr": callers pass the typed array itself, never a ptr() kept from earlier (NOTES.md, Bun issue 32054).
import type { FFIFunction } from "bun:ffi";

/**
 * Loaded in one dlopen: if any is missing the library is not an NVML Vigil can use. Only calls that have existed since
 * the R3xx drivers and have no versioned successor belong here.
 */
export const CORE_SYMBOLS = {
  // nvmlReturn_t nvmlInit_v2(void)
  nvmlInit_v2: { args: [], returns: "u32" },
  // nvmlReturn_t nvmlShutdown(void)
  nvmlShutdown: { args: [], returns: "u32" },
  // const char* nvmlErrorString(nvmlReturn_t result)
  nvmlErrorString: { args: ["u32"], returns: "cstring" },
  // nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length)
  nvmlSystemGetDriverVersion: { args: ["ptr", "u32"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* deviceCount)
  nvmlDeviceGetCount_v2: { args: ["ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device)
  nvmlDeviceGetHandleByIndex_v2: { args: ["u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length)
  nvmlDeviceGetName: { args: ["ptr", "ptr", "u32"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length)
  nvmlDeviceGetUUID: { args: ["ptr", "ptr", "u32"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char* serial, unsigned int length)
  nvmlDeviceGetSerial: { args: ["ptr", "ptr", "u32"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* utilization)
  nvmlDeviceGetUtilizationRates: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType, unsigned int* temp)
  nvmlDeviceGetTemperature: { args: ["ptr", "u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power)  (milliwatts)
  nvmlDeviceGetPowerUsage: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit)  (milliwatts)
  nvmlDeviceGetEnforcedPowerLimit: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int* defaultLimit)  (milliwatts)
  nvmlDeviceGetPowerManagementDefaultLimit: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int* clock)  (MHz)
  nvmlDeviceGetClockInfo: { args: ["ptr", "u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int* clock)  (MHz)
  nvmlDeviceGetMaxClockInfo: { args: ["ptr", "u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, nvmlPcieUtilCounter_t counter, unsigned int* value)  (KB/s)
  nvmlDeviceGetPcieThroughput: { args: ["ptr", "u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int* currLinkGen)
  nvmlDeviceGetCurrPcieLinkGeneration: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int* currLinkWidth)
  nvmlDeviceGetCurrPcieLinkWidth: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int* utilization, unsigned int* samplingPeriodUs)
  nvmlDeviceGetEncoderUtilization: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int* utilization, unsigned int* samplingPeriodUs)
  nvmlDeviceGetDecoderUtilization: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t* pState)
  nvmlDeviceGetPerformanceState: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
  //                                          nvmlEccCounterType_t counterType, unsigned long long* eccCounts)
  nvmlDeviceGetTotalEccErrors: { args: ["ptr", "u32", "u32", "ptr"], returns: "u32" },
} as const satisfies Record<string, FFIFunction>;

/**
 * Each loaded in a dlopen of its own, because one missing symbol makes dlopen throw (NOTES.md): a driver without
 * one still loads, and what it feeds becomes null. The older member of each versioned family is here too, so that
 * a future driver that drops it still loads.
 */
export const OPTIONAL_SYMBOLS = {
  // nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int* cudaDriverVersion)  (e.g. 12040 = 12.4)
  nvmlSystemGetCudaDriverVersion_v2: { args: ["ptr"], returns: "u32" },
  // nvmlReturn_t nvmlSystemGetCudaDriverVersion(int* cudaDriverVersion)
  nvmlSystemGetCudaDriverVersion: { args: ["ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci)
  nvmlDeviceGetPciInfo_v3: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t* pci)
  nvmlDeviceGetPciInfo_v2: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory)
  nvmlDeviceGetMemoryInfo_v2: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory)
  nvmlDeviceGetMemoryInfo: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount, nvmlFieldValue_t* values)
  nvmlDeviceGetFieldValues: { args: ["ptr", "i32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t device, unsigned int* numFans)
  nvmlDeviceGetNumFans: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t device, unsigned int fan, unsigned int* speed)
  nvmlDeviceGetFanSpeed_v2: { args: ["ptr", "u32", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int* speed)
  nvmlDeviceGetFanSpeed: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long* clocksEventReasons)
  nvmlDeviceGetCurrentClocksEventReasons: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long* clocksThrottleReasons)
  nvmlDeviceGetCurrentClocksThrottleReasons: { args: ["ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int* major, int* minor)
  nvmlDeviceGetCudaComputeCapability: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* currentMode, unsigned int* pendingMode)
  nvmlDeviceGetMigMode: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_t* infos)
  nvmlDeviceGetComputeRunningProcesses_v3: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_v2_t* infos)
  nvmlDeviceGetComputeRunningProcesses_v2: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_v1_t* infos)
  nvmlDeviceGetComputeRunningProcesses: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_t* infos)
  nvmlDeviceGetGraphicsRunningProcesses_v3: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_v2_t* infos)
  nvmlDeviceGetGraphicsRunningProcesses_v2: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
  // nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_v1_t* infos)
  nvmlDeviceGetGraphicsRunningProcesses: { args: ["ptr", "ptr", "ptr"], returns: "u32" },
} as const satisfies Record<string, FFIFunction>;

export type CoreSymbol = keyof typeof CORE_SYMBOLS;
export type OptionalSymbol = keyof typeof OPTIONAL_SYMBOLS;
