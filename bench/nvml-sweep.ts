// Benchmark of one NVML sweep (collect() over 8 H100s with processes) through bun:ffi against the fake libnvidia-ml.
// Usage: bun bench/nvml-sweep.ts [--sweeps N] [--warmup N]. Prints a Markdown table line for BENCHMARKS.md.
// Baseline in the same run: nvmlDeviceGetCount_v2 plus one nvmlDeviceGetTemperature per GPU, the floor of FFI cost.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { openNvml } from "../agent/collectors/nvml/index.ts";
import { loadNvml } from "../agent/collectors/nvml/library.ts";
import { CORE_SYMBOLS, OPTIONAL_SYMBOLS } from "../agent/collectors/nvml/symbols.ts";
import { fakeNvml, FIXTURE_PROC } from "../test/fake-nvml/hooks.ts";
import type { Pointer } from "bun:ffi";

const { values } = parseArgs({ options: { sweeps: { type: "string", default: "5000" }, warmup: { type: "string", default: "500" } } });
const SWEEPS = Number(values.sweeps);
const WARMUP = Number(values.warmup);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
function summary(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5) * 1000, p95: quantile(s, 0.95) * 1000 };
}
const us = (x: number) => `${x.toFixed(2)} µs`;

const fake = await fakeNvml("full");
fake.useScenario("h100x8");
const source = openNvml({ libPath: fake.path, procRoot: FIXTURE_PROC });
try {
  // The full sweep, as the agent runs it.
  for (let i = 0; i < WARMUP; i++) await source.collect();
  const first = await source.collect();
  const gpuCount = first.gpus.length;
  const processCount = first.gpus.reduce((n, g) => n + g.processes.length, 0);
  fake.resetCalls();
  const sweepMs: number[] = new Array(SWEEPS);
  for (let i = 0; i < SWEEPS; i++) {
    const t = performance.now();
    await source.collect();
    sweepMs[i] = performance.now() - t;
  }
  const allCalls = [...Object.keys(CORE_SYMBOLS), ...Object.keys(OPTIONAL_SYMBOLS)].reduce((n, fn) => n + Math.max(0, fake.calls(fn)), 0);
  const callsPerSweep = allCalls / SWEEPS;

  // The floor: the same library, the fewest calls that still touch every GPU.
  const lib = loadNvml(fake.path);
  const handles: Pointer[] = [];
  const out = new Uint32Array(new ArrayBuffer(8));
  const handle = new BigUint64Array(new ArrayBuffer(8));
  for (let i = 0; i < gpuCount; i++) {
    if (lib.nvmlDeviceGetHandleByIndex_v2(i, handle) !== 0) throw new Error(`no handle for GPU ${i}`);
    handles.push(Number(handle[0]) as Pointer);
  }
  const floorSweep = () => {
    lib.nvmlDeviceGetCount_v2(out);
    for (const h of handles) lib.nvmlDeviceGetTemperature(h, 0, out);
  };
  for (let i = 0; i < WARMUP; i++) floorSweep();
  // A floor sweep takes about as long as reading the clock, so it is timed in batches and divided.
  const BATCH = 100;
  const floorMs: number[] = new Array(Math.max(1, Math.floor(SWEEPS / BATCH)));
  for (let i = 0; i < floorMs.length; i++) {
    const t = performance.now();
    for (let j = 0; j < BATCH; j++) floorSweep();
    floorMs[i] = (performance.now() - t) / BATCH;
  }
  lib.close();

  const sweep = summary(sweepMs);
  const floor = summary(floorMs);
  console.error(`Bun ${Bun.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${SWEEPS} sweeps after ${WARMUP} warm-up`);
  console.error(`full sweep: ${gpuCount} GPUs, ${processCount} processes, ${callsPerSweep.toFixed(0)} NVML calls per sweep`);
  console.log("| What | Median | p95 |");
  console.log("|---|---|---|");
  console.log(
    `| NVML sweep, ${gpuCount}× H100 + ${processCount} processes (fake NVML, ${callsPerSweep.toFixed(0)} calls) | ${us(sweep.median)} | ${us(sweep.p95)} |`,
  );
  console.log(
    `| Floor: GetCount + ${gpuCount}× GetTemperature (${gpuCount + 1} calls, batches of ${BATCH}) | ${us(floor.median)} | ${us(floor.p95)} |`,
  );
} finally {
  source.close();
}
