// The simulated fleet's workers as `vigil simulate` drives them: one interface, a load-test kind and a demo kind.
import type { HostVitals, Sample } from "../protocol/sample.ts";
import { DemoWorker, demoScenario } from "./demo.ts";
import { LoadWorker } from "./load.ts";

export interface SimulatedWorker {
  readonly name: string;
  /** The sample at `ts`, `dtSeconds` after the one before (the demo's vitals move with time, not with calls). */
  sample(seq: number, ts: Date, dtSeconds: number): Sample;
  /** Sends its history, then nothing more: the head comes to show it offline. */
  readonly goesOffline?: boolean;
  /** Units it plays a restart of (reporting the states; nothing runs); without it every restart is refused. */
  readonly restartAllow?: readonly string[];
}

/**
 * Every simulated sample says so in `host.simulated` (an optional field of the wire schema): the head
 * keeps it with the worker's static facts, so pages and the API label simulated workers without
 * trusting a name pattern, after a head restart too.
 */
export type SimulatedHost = HostVitals & { simulated: true };

/** Worker names of a simulated fleet: sim-0001, sim-0002, ... */
export function simulatedNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);
}

export function simulatedFleet(count: number, gpus: number, demo: boolean): SimulatedWorker[] {
  const names = simulatedNames(count);
  if (!demo) return names.map((n) => new LoadWorker(n, gpus));
  const scenario = demoScenario(count, gpus);
  return names.map((n, i) => new DemoWorker(n, i, gpus, scenario));
}
