// The check of the head itself: its event loop, the sample writer's queue and failures, the live hub's ticker and the alert engine's errors.
import { Type, type Static } from "@sinclair/typebox";
import type { HeadContext } from "../head/context.ts";
import type { Checker, CheckContext, CheckOutcome, HealthStatus } from "./checker.ts";
import { byLatency } from "./checker.ts";
import { CheckCancelled, failure, neverThrows, roundMs, worst } from "./outcome.ts";

export const DEFAULT_MAX_WRITER_QUEUE = 2_000;
/** The hub ticks every second; a few seconds without one is a stopped or stuck hub, not a slow tick. */
export const HUB_TICK_WAIT_MS = 3_000;

export const vigilSchema = Type.Object(
  {
    maxWriterQueue: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: DEFAULT_MAX_WRITER_QUEUE,
        description: `Degraded when more samples than this wait to be written to the database (it is slow or away). Default ${DEFAULT_MAX_WRITER_QUEUE}.`,
      }),
    ),
  },
  { additionalProperties: false },
);

export type VigilConfig = Static<typeof vigilSchema>;

/** Counters at the last check of a head: "rising" means higher than here. */
interface Baseline {
  ticks: number;
  alertErrors: number;
  failedFlushes: number;
  droppedSamples: number;
}

// Keyed by the head object, so a head's counters are compared with its own last check and forgotten with it.
const baselines = new WeakMap<HeadContext, Baseline>();

function countersOf(head: HeadContext): Baseline {
  return {
    ticks: head.live.stats.ticks,
    alertErrors: head.alerts.stats.errors,
    failedFlushes: head.writer.stats.failedFlushes,
    droppedSamples: head.writer.stats.droppedSamples,
  };
}

/** How long a task queued now waits for the event loop: a head busy with one long job answers everything late. */
function eventLoopLag(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve(performance.now() - started)));
}

/** Whether the hub ticked since `before`, waiting up to `waitMs` (and no longer than the check may take) for the next tick. */
async function hubTicks(head: HeadContext, before: number, waitMs: number, signal: AbortSignal): Promise<boolean> {
  const until = performance.now() + waitMs;
  while (head.live.stats.ticks <= before) {
    if (performance.now() >= until || signal.aborted) return false;
    await Bun.sleep(20);
  }
  return true;
}

const times = (n: number) => (n === 1 ? "once" : `${n} times`);

interface Finding {
  status: HealthStatus;
  text: string;
}

async function runVigil(config: VigilConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const head = ctx.head;
  const prev = baselines.get(head);
  const lag = roundMs(await eventLoopLag());
  const ticked = await hubTicks(head, prev?.ticks ?? head.live.stats.ticks, Math.min(ctx.timeoutMs, HUB_TICK_WAIT_MS), ctx.signal);
  if (ctx.signal.aborted) return failure("Vigil", new CheckCancelled());
  const now = countersOf(head);
  baselines.set(head, now);
  const rise = (k: keyof Baseline) => (prev ? Math.max(0, now[k] - prev[k]) : 0);
  const maxQueue = config.maxWriterQueue ?? DEFAULT_MAX_WRITER_QUEUE;
  const queued = head.writer.queued;

  const findings: Finding[] = [];
  if (!ticked)
    findings.push({
      status: "down",
      text: `live hub has not ticked ${prev ? "since the last check" : `within ${Math.min(ctx.timeoutMs, HUB_TICK_WAIT_MS)} ms`}: live pages are frozen`,
    });
  if (queued > maxQueue) findings.push({ status: "degraded", text: `${queued} samples wait to be written (more than ${maxQueue})` });
  if (rise("droppedSamples") > 0)
    findings.push({
      status: "degraded",
      text: `${rise("droppedSamples")} samples dropped since the last check (the database was away too long)`,
    });
  if (rise("failedFlushes") > 0)
    findings.push({ status: "degraded", text: `writing samples failed ${times(rise("failedFlushes"))} since the last check` });
  if (rise("alertErrors") > 0)
    findings.push({ status: "degraded", text: `alert engine failed ${times(rise("alertErrors"))} since the last check` });
  if (byLatency(lag, ctx) === "degraded")
    findings.push({ status: "degraded", text: `event loop lags ${lag} ms (more than ${ctx.degradedLatencyMs} ms)` });

  const uptimeSeconds = Math.max(0, Math.round((ctx.now() - head.startedAt.getTime()) / 1000));
  const details: Record<string, unknown> = {
    uptimeSeconds,
    eventLoopLagMs: lag,
    writer: { queued, maxQueue, ...head.writer.stats },
    live: { ticking: ticked, ticks: now.ticks, subscribers: head.live.subscribers },
    alerts: {
      errors: now.alertErrors,
      newErrors: rise("alertErrors"),
      evaluations: head.alerts.stats.evaluations,
      open: head.alerts.list().length,
    },
    deliveries: { ...head.deliveries.stats },
    agentsConnected: head.sessions.count,
  };
  const status = worst(...findings.map((f) => f.status));
  const message =
    findings.length > 0
      ? findings
          .sort((a, b) => (a.status === b.status ? 0 : a.status === "down" ? -1 : 1))
          .map((f) => f.text)
          .join("; ")
      : `running for ${uptimeSeconds} s; writer queue ${queued}; live hub ticking; no alert errors`;
  return { status, latencyMs: lag, message, details };
}

export const vigil: Checker<typeof vigilSchema> = {
  kind: "vigil",
  label: "Vigil itself",
  schema: vigilSchema,
  needsWorker: false,
  run: (config, ctx) => neverThrows("Vigil", () => runVigil(config, ctx)),
};
