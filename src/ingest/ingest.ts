// The one entry for samples, from the in-process agent and (later) remote agents alike: validate, cache, queue for the writer.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { gpus, workers } from "../db/schema/index.ts";
import { checkSample, type Sample } from "../protocol/sample.ts";
import type { LatestCache } from "./latest.ts";
import { gpuRow, hostRow, processRows, staticInfoOf, type GpuProcessRow } from "./rows.ts";
import type { BatchedWriter } from "./writer.ts";

export interface IngestWorker {
  id: number;
  name: string;
}

/** The GPU's identity and static facts as stored in `gpus` (refreshed when the agent restarts and re-registers). */
function gpuStatic(workerId: number, g: Sample["gpus"][number]) {
  const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v));
  return {
    workerId,
    uuid: g.uuid,
    index: g.index,
    name: g.name,
    memoryTotalMiB: round(g.memoryTotal),
    driverVersion: g.driverVersion,
    cudaVersion: g.cudaVersion,
    pciBusId: g.pciBusId ?? null,
    serial: g.serial ?? null,
    computeCapability: g.computeCapability ?? null,
    migMode: g.migMode ?? null,
    powerLimitDefaultW: g.powerLimitDefault ?? null,
    maxSmClockMHz: round(g.maxSmClock),
    maxMemoryClockMHz: round(g.maxMemoryClock),
    maxGraphicsClockMHz: round(g.maxGraphicsClock),
    lastSeenAt: new Date(),
  };
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
  /** The static host facts last written to workers.info, per worker: written again only on change. */
  private infoWritten = new Map<number, string>();
  readonly stats = { accepted: 0, rejected: 0 };
  private listeners: ((entry: { workerId: number; sample: Sample }) => void)[] = [];
  private committedListeners: ((workerId: number) => void)[] = [];
  /** Per GPU row id, the process-recording slots (ts / interval) recently recorded. */
  private processSlots = new Map<number, number[]>();
  private readonly processIntervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly writer: BatchedWriter,
    private readonly latest: LatestCache,
    opts: { processIntervalSeconds?: number } = {},
  ) {
    this.processIntervalMs = (opts.processIntervalSeconds ?? 10) * 1000;
  }

  /**
   * Whether this sample's processes are recorded: once per interval slot of the sample's own clock.
   * Several recent slots are remembered because a backlog replayed after an outage interleaves old
   * samples with live ones; forgetting after a restart costs at most one extra record.
   */
  private takesProcesses(gpuId: number, ts: Date): boolean {
    const slot = Math.floor(ts.getTime() / this.processIntervalMs);
    let slots = this.processSlots.get(gpuId);
    if (!slots) this.processSlots.set(gpuId, (slots = []));
    if (slots.includes(slot)) return false;
    slots.push(slot);
    if (slots.length > 64) slots.shift();
    return true;
  }

  /** Called for every accepted sample (the live bus hooks in here). */
  onSample(fn: (entry: { workerId: number; sample: Sample }) => void): void {
    this.listeners.push(fn);
  }

  /** Called once a sample's rows are committed (other heads are told then, so they can read them). */
  onCommitted(fn: (workerId: number) => void): void {
    this.committedListeners.push(fn);
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
    const processes: GpuProcessRow[] = [];
    for (const g of sample.gpus) {
      const gpuId = await this.gpuId(worker.id, g);
      gpuRows.push(gpuRow(gpuId, worker.id, ts, g));
      if (!g.lost && this.takesProcesses(gpuId, ts)) processes.push(...processRows(gpuId, worker.id, ts, g));
    }
    await this.recordStaticInfo(worker.id, sample);
    this.stats.accepted++;
    this.latest.update({ workerId: worker.id, workerName: worker.name, receivedAt: new Date(), sample });
    for (const fn of this.listeners) fn({ workerId: worker.id, sample });
    const committed = this.writer.write({
      workerId: worker.id,
      seq: sample.seq,
      ts,
      host: hostRow(worker.id, ts, sample.seq, sample.host, sample.gpuSource, sample.gpuError),
      gpus: gpuRows,
      processes,
    });
    if (this.committedListeners.length > 0)
      committed.then(
        () => {
          for (const fn of this.committedListeners) fn(worker.id);
        },
        () => {},
      );
    return committed;
  }

  private async recordStaticInfo(workerId: number, sample: Sample): Promise<void> {
    const info = staticInfoOf(sample.host);
    const key = JSON.stringify(info);
    if (this.infoWritten.get(workerId) === key) return;
    // Merged into what is there: workers.info also holds facts other parts record.
    await this.db
      .update(workers)
      .set({ info: sql`${workers.info} || ${key}::jsonb` })
      .where(eq(workers.id, workerId));
    this.infoWritten.set(workerId, key);
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
    const values = gpuStatic(workerId, g);
    const { workerId: _w, uuid: _u, ...details } = values;
    await this.db
      .insert(gpus)
      .values(values)
      .onConflictDoUpdate({ target: [gpus.workerId, gpus.uuid], set: details });
    const row = await this.db
      .select({ id: gpus.id })
      .from(gpus)
      .where(and(eq(gpus.workerId, workerId), eq(gpus.uuid, g.uuid)));
    const id = row[0]?.id;
    if (id === undefined) throw new Error(`could not register GPU ${g.uuid} of worker ${workerId}`);
    return id;
  }
}
