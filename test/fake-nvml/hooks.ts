// Test access to the fake NVML: builds it, and reaches its fakeNvml* hooks through a second dlopen of the same file.
import { dlopen } from "bun:ffi";
import { join } from "node:path";
import { makeSample } from "../fixtures/samples.ts";
import type { GpuVitals, Sample } from "../../src/protocol/sample.ts";
import { buildFakeNvml, type FakeNvmlFlavour } from "./build.ts";

export const SCENARIOS = join(import.meta.dir, "scenarios");
/** A /proc tree with the pids the scenarios name; its passwd lives in fixture/etc, where ProcessDirectory looks. */
export const FIXTURE_PROC = join(import.meta.dir, "fixture", "proc");

const HOOKS = {
  fakeNvmlSetScenario: { args: ["cstring"], returns: "void" },
  fakeNvmlCallCount: { args: ["cstring"], returns: "i64" },
  fakeNvmlResetCalls: { args: [], returns: "void" },
  fakeNvmlLayout: { args: ["cstring"], returns: "u32" },
} as const;

export interface FakeNvml {
  flavour: FakeNvmlFlavour;
  /** The libnvidia-ml.so.1 to give openNvml as libPath. */
  path: string;
  /**
   * Makes the next nvmlInit_v2 read scenarios/<name>.scenario. Needed because Bun's process.env does not reach the
   * library's getenv(); child processes can use FAKE_NVML_SCENARIO instead.
   */
  useScenario(name: string): string;
  /** Calls of an NVML function since the last nvmlInit_v2; -1 when this flavour lacks it altogether. */
  calls(fn: string): number;
  resetCalls(): void;
  /** sizeof("nvmlMemory_t") or offsetof("nvmlMemory_t.used") as the C compiler laid the fake's structs out. */
  layout(what: string): number;
}

export async function fakeNvml(flavour: FakeNvmlFlavour): Promise<FakeNvml> {
  const path = await buildFakeNvml(flavour);
  // Opened by path, this is the same mapping openNvml() gets, so the hooks see the same counters and scenario.
  const { symbols } = dlopen(path, HOOKS);
  return {
    flavour,
    path,
    useScenario(name) {
      const file = join(SCENARIOS, `${name}.scenario`);
      symbols.fakeNvmlSetScenario(file);
      return file;
    },
    calls: (fn) => Number(symbols.fakeNvmlCallCount(fn)),
    resetCalls: () => symbols.fakeNvmlResetCalls(),
    layout: (what) => symbols.fakeNvmlLayout(what),
  };
}

/** A whole wire sample around a GPU reading, as the agent would send it, for checkSample(). */
export function sampleAround(gpus: GpuVitals[], notice?: string): Sample {
  const base = makeSample(1, { gpus: 0, hostname: "hgx-01", ts: new Date() });
  return { ...base, gpus, gpuSource: "nvml", ...(notice ? { gpuNotice: notice } : {}) };
}
