// Takes a batch of samples from one agent: checks each on its own, stores the good ones, and answers which seqs are committed.
import { checkSample } from "../protocol/sample.ts";
import type { Ingestor, IngestWorker } from "./ingest.ts";
import { SampleRejected } from "./ingest.ts";
import type { BatchedWriter } from "./writer.ts";

const BUSY_RETRY_MS = 2_000;

export interface BatchOutcome {
  /** Committed (or already stored, when a sample is sent twice): the agent may forget them. */
  acked: number[];
  /** Never acceptable (malformed): the agent logs and drops them. */
  rejected: { seqs: number[]; error: string }[];
  /** Not taken now: the agent keeps them and sends again after retryAfterMs. */
  busy?: { seqs: number[]; retryAfterMs: number };
}

function seqOf(value: unknown): number | null {
  const seq = (value as { seq?: unknown } | null)?.seq;
  return typeof seq === "number" && Number.isInteger(seq) && seq >= 0 ? seq : null;
}

export async function ingestBatch(
  ingestor: Ingestor,
  writer: BatchedWriter,
  worker: IngestWorker,
  samples: unknown[],
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { acked: [], rejected: [] };
  // Beyond the writer's limit (VIGIL_INGEST_QUEUE_MAX) agents are told to come back later; they spool meanwhile.
  if (writer.queued > writer.busyAt) {
    const seqs = samples.map(seqOf).filter((s): s is number => s !== null);
    return { ...outcome, busy: { seqs, retryAfterMs: BUSY_RETRY_MS } };
  }
  const commits: Promise<void>[] = [];
  const pendingSeqs: number[] = [];
  const byError = new Map<string, number[]>();
  for (const value of samples) {
    const check = checkSample(value);
    const seq = seqOf(value);
    if (!check.ok) {
      if (seq !== null) byError.set(check.error, [...(byError.get(check.error) ?? []), seq]);
      else byError.set(`no seq: ${check.error}`, byError.get(`no seq: ${check.error}`) ?? []);
      continue;
    }
    try {
      commits.push(ingestor.ingest(worker, check.sample));
      pendingSeqs.push(check.sample.seq);
    } catch (err) {
      if (!(err instanceof SampleRejected)) throw err;
      byError.set(err.message, [...(byError.get(err.message) ?? []), check.sample.seq]);
    }
  }
  // ingest() validates synchronously where it can and rejects asynchronously for the rest.
  const settled = await Promise.allSettled(commits);
  const busySeqs: number[] = [];
  settled.forEach((r, i) => {
    const seq = pendingSeqs[i]!;
    if (r.status === "fulfilled") outcome.acked.push(seq);
    else if (r.reason instanceof SampleRejected) byError.set(r.reason.message, [...(byError.get(r.reason.message) ?? []), seq]);
    else busySeqs.push(seq); // the database failed this commit: keep it on the agent and try again
  });
  for (const [error, seqs] of byError) outcome.rejected.push({ seqs, error });
  if (busySeqs.length) outcome.busy = { seqs: busySeqs, retryAfterMs: BUSY_RETRY_MS };
  return outcome;
}
