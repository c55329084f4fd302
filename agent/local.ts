// The head's in-process agent: samples the head's own machine every interval into the same ingest path remote agents use.
import type { IngestWorker, Ingestor } from "../src/ingest/ingest.ts";
import type { Logger } from "../src/log.ts";
import type { ProbeAnswer, WorkerProbeSpec } from "../src/protocol/messages.ts";
import { createProbeRunner, probeSettingsFromEnv, type ProbeSettings } from "./probe/index.ts";
import type { Sampler } from "./sampler.ts";

export interface LocalAgentOptions {
  worker: IngestWorker;
  ingestor: Ingestor;
  sampler: Sampler;
  intervalSeconds: number;
  /** What probes may read on the head's machine; default: no unit logs, files under VIGIL_PROBE_PATHS. */
  probes?: ProbeSettings;
  log: Logger;
}

export interface LocalAgent {
  /**
   * Runs a probe on the head's own machine, as a remote agent would on its worker; there is no socket,
   * so the head's probe router calls this directly (ProbeRouter.setLocal).
   */
  probe(probe: WorkerProbeSpec, timeoutMs: number): Promise<ProbeAnswer>;
  stop(): Promise<void>;
}

export async function startLocalAgent(opts: LocalAgentOptions): Promise<LocalAgent> {
  const intervalMs = opts.intervalSeconds * 1000;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  const pending = new Set<Promise<void>>();

  await opts.sampler.prime();
  const probe = createProbeRunner(opts.probes ?? probeSettingsFromEnv([]));

  const tick = async () => {
    const started = performance.now();
    try {
      const sample = await opts.sampler.next();
      const committed = opts.ingestor.ingest(opts.worker, sample).catch((err: unknown) => {
        opts.log.error("local sample was not stored", { error: err, seq: sample.seq });
      });
      pending.add(committed);
      void committed.finally(() => pending.delete(committed));
    } catch (err) {
      opts.log.error("local sample failed", { error: err, ms: Math.round(performance.now() - started) });
    }
  };

  const schedule = () => {
    if (stopped) return;
    // Align ticks to the interval so samples land on round instants and do not drift.
    const delay = intervalMs - (Date.now() % intervalMs);
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, delay);
  };
  schedule();
  opts.log.info("local agent started", { worker: opts.worker.name, intervalSeconds: opts.intervalSeconds });

  return {
    probe,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (running) await running;
      // Samples already handed to the ingestor settle when the writer commits or closes.
      void Promise.allSettled([...pending]);
    },
  };
}
