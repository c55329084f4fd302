// The one entry for samples, from the in-process agent and (later) remote agents alike: validate, cache, queue for the writer.
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { gpus } from "../db/schema/index.ts";
import { checkSample, type Sample } from "../protocol/sample.ts";
import type { LatestCache } from "./latest.ts";
import { gpuRow, hostRow } from "./rows.ts";
import type { BatchedWriter } from "./writer.ts";

export interface IngestWorker {
  id: number;
  name: string;
}

export class SampleRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SampleRejected";
  }
}

/** How far in the future a sample's clock may be before it is refused (clock skew between machines). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export class Ingestor {
  /** GPU row ids by `${workerId}/${uuid}`; a GPU is registered once, then only looked up here. */
  private gpuIds = new Map<string, Promise<number>>();
  readonly stats = { accepted: 0, rejected: 0 };
  private listeners: ((entry: { workerId: number; sample: Sample }) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly writer: BatchedWriter,
    private readonly latest: LatestCache,
  ) {}

  /** Called for every accepted sample (the live bus hooks in here). */
  onSample(fn: (entry: { workerId: number; sample: Sample }) => void): void {
    this.listeners.push(fn);
  }

  /** Validates untrusted JSON, then ingests it. Throws SampleRejected with the offending field. */
  async ingestUntrusted(worker: IngestWorker, value: unknown): Promise<void> {
    const check = checkSample(value);
    if (!check.ok) {
      this.stats.rejected++;
      throw new SampleRejected(`invalid sample: ${check.error}`);
    }
    return this.ingest(worker, check.sample);
  }

  /**
   * Caches the sample as the worker's latest and queues its rows. The returned promise settles
   * when the rows are committed, which is when an agent may be acknowledged.
   */
  async ingest(worker: IngestWorker, sample: Sample): Promise<void> {
    const ts = new Date(sample.ts);
    if (ts.getTime() > Date.now() + MAX_FUTURE_SKEW_MS) {
      this.stats.rejected++;
      throw new SampleRejected(`invalid sample: /ts ${sample.ts} is in the future; check the worker's clock (NTP)`);
    }
    const gpuRows = [];
    for (const g of sample.gpus) {
      const gpuId = await this.gpuId(worker.id, g);
      gpuRows.push(gpuRow(gpuId, worker.id, ts, g));
    }
    this.stats.accepted++;
    this.latest.update({ workerId: worker.id, workerName: worker.name, receivedAt: new Date(), sample });
    for (const fn of this.listeners) fn({ workerId: worker.id, sample });
    return this.writer.write({
      workerId: worker.id,
      seq: sample.seq,
      ts,
      host: hostRow(worker.id, ts, sample.seq, sample.host, sample.gpuSource, sample.gpuError),
      gpus: gpuRows,
    });
  }

  private gpuId(workerId: number, g: Sample["gpus"][number]): Promise<number> {
    const key = `${workerId}/${g.uuid}`;
    // Samples of a new GPU arriving together share one registration.
    let id = this.gpuIds.get(key);
    if (!id) {
      id = this.registerGpu(workerId, g);
      this.gpuIds.set(key, id);
      id.catch(() => this.gpuIds.delete(key));
    }
    return id;
  }

  private async registerGpu(workerId: number, g: Sample["gpus"][number]): Promise<number> {
    const values = {
      workerId,
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      memoryTotalMiB: g.memoryTotal === null ? null : Math.round(g.memoryTotal),
      driverVersion: g.driverVersion,
      cudaVersion: g.cudaVersion,
      lastSeenAt: new Date(),
    };
    await this.db
      .insert(gpus)
      .values(values)
      .onConflictDoUpdate({
        target: [gpus.workerId, gpus.uuid],
        set: {
          index: values.index,
          name: values.name,
          memoryTotalMiB: values.memoryTotalMiB,
          driverVersion: values.driverVersion,
          cudaVersion: values.cudaVersion,
          lastSeenAt: values.lastSeenAt,
        },
      });
    const row = await this.db
      .select({ id: gpus.id })
      .from(gpus)
      .where(and(eq(gpus.workerId, workerId), eq(gpus.uuid, g.uuid)));
    const id = row[0]?.id;
    if (id === undefined) throw new Error(`could not register GPU ${g.uuid} of worker ${workerId}`);
    return id;
  }
}
