// The nvidia-smi GPU source, as the agent sees it: open it, then collect() every interval.
export { openNvidiaSmi, type NvidiaSmiOptions } from "./collector.ts";
