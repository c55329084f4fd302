// Asking a worker's agent to run a probe on the worker's side, bounded by the check's timeout: what unit, worker-http, worker-tcp and filesystem share.
import type { CheckContext, CheckOutcome, WorkerProbe, WorkerProbeAnswer } from "./checker.ts";
import { CheckTimeout, down, failure, withDeadline } from "./outcome.ts";

export interface ProbeReply {
  answer: WorkerProbeAnswer;
  /** Head to agent and back, the probe's own work included. */
  roundTripMs: number;
}

/**
 * The timeout a probe runs under on the worker: most of the check's, so the agent's "timed out"
 * comes back before the head gives up on the agent itself.
 */
export function probeTimeoutMs(ctx: Pick<CheckContext, "timeoutMs">): number {
  return Math.max(200, Math.floor(ctx.timeoutMs * 0.8));
}

/**
 * Runs `probe` through the worker's agent. Returns the answer, or the down outcome to report: the
 * agent not connected or not answering in time, or the probe itself failing (answer.ok false).
 */
export async function askAgent(
  ctx: CheckContext,
  workerId: number,
  probe: WorkerProbe,
  where: string,
  details: Record<string, unknown>,
): Promise<ProbeReply | CheckOutcome> {
  const started = performance.now();
  let answer: WorkerProbeAnswer;
  try {
    answer = await withDeadline(ctx, () => ctx.probe(workerId, probe, ctx.timeoutMs));
  } catch (err) {
    // Not the service's timeout: the agent (or its link to the head) is what did not answer.
    if (err instanceof CheckTimeout) return down(`${where}: the agent of worker ${workerId} did not answer within ${err.ms} ms`, details);
    return failure(where, err, details);
  }
  const roundTripMs = performance.now() - started;
  if (!answer.ok)
    return down(`${where}: ${answer.error ?? "the agent reported a failure without a reason"}`, { ...details, ...answer.result });
  return { answer, roundTripMs };
}

export function isOutcome(r: ProbeReply | CheckOutcome): r is CheckOutcome {
  return "status" in r;
}
