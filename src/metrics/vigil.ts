// Vigil's own series: build, workers' up/last-seen, and this head's ingest and writer counters.
import { BUILD_COMMIT, VERSION } from "../version.ts";
import type { MetricsProvider } from "./provider.ts";

export const buildMetrics: MetricsProvider = ({ ctx }, out) => {
  out
    .family("vigil_build_info", "gauge", "Vigil's version and build commit as labels; the value is always 1.")
    .add({ version: VERSION, commit: BUILD_COMMIT }, 1);
  out
    .family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
    .add({}, Math.floor(ctx.startedAt.getTime() / 1000));
};

/** Every registered worker, reporting or not: the series an alert on a silent machine is written against. */
export const workerMetrics: MetricsProvider = ({ ctx, workers }, out) => {
  const up = out.family("vigil_worker_up", "gauge", "1 when the worker's agent sent a sample within 3 intervals, else 0.");
  const lastSeen = out.family("vigil_worker_last_seen_timestamp_seconds", "gauge", "When the head last received a sample from the worker.");
  const gpus = out.family("vigil_worker_gpus", "gauge", "GPUs Vigil has registered for the worker.");
  for (const w of workers) {
    // The hostname of the latest sample when there is one: the same Hostname label the GPU series carry.
    const labels = { worker: w.name, Hostname: ctx.latest.get(w.id)?.sample.host.hostname ?? w.hostname };
    up.add(labels, w.status === "online" ? 1 : 0);
    lastSeen.add(labels, w.lastSeenAt === null ? null : Date.parse(w.lastSeenAt) / 1000);
    gpus.add(labels, w.gpuCount);
  }
  out.family("vigil_agents_connected", "gauge", "Agents holding a WebSocket to this head.").add({}, ctx.sessions.count);
};

/** Per head process: with several heads behind one balancer, sum them in PromQL. */
export const ingestMetrics: MetricsProvider = ({ ctx }, out) => {
  const samples = out.family("vigil_ingest_samples_total", "counter", "Samples from agents, by whether the head accepted them.");
  samples.add({ result: "accepted" }, ctx.ingestor.stats.accepted);
  samples.add({ result: "rejected" }, ctx.ingestor.stats.rejected);
  const w = ctx.writer.stats;
  out.family("vigil_writer_committed_samples_total", "counter", "Samples committed to the database.").add({}, w.committedSamples);
  out.family("vigil_writer_committed_gpu_rows_total", "counter", "Per-GPU rows committed to the database.").add({}, w.committedGpuRows);
  const flushes = out.family(
    "vigil_writer_flushes_total",
    "counter",
    "Batched writes to the database, by outcome (a failed one is retried).",
  );
  flushes.add({ result: "ok" }, w.flushes);
  flushes.add({ result: "failed" }, w.failedFlushes);
  out
    .family(
      "vigil_writer_dropped_samples_total",
      "counter",
      "Samples dropped because the write queue was full (the database away too long).",
    )
    .add({}, w.droppedSamples);
  out.family("vigil_writer_queued_samples", "gauge", "Samples waiting to be written.").add({}, ctx.writer.queued);
};
