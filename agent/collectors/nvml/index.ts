// The NVML GPU source as the agent sees it: openNvml() returns a GpuSource or throws GpuSourceUnavailable.
export { openNvml, type NvmlOptions } from "./collector.ts";
export { loadNvml, nvmlErrorName, NvmlLoadError, type NvmlLib } from "./library.ts";
export { decodeThrottleReasons, THROTTLE_REASONS } from "./throttle.ts";
