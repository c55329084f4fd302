// The retention loop of the head: rollups every few seconds, pruning every hour, run by the head leading it and each job under an advisory lock.
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { prune, type PruneResult, type Retention } from "./prune.ts";
import { rollupPending, type RollupResult } from "./rollup.ts";

/** Advisory-lock key of one rollup or prune job (any constant unique among Vigil's locks; the loop's own leadership key is in src/cluster/leader.ts). */
export const RETENTION_LOCK = 0x76_69_67_02;

export interface RetentionLoopOptions {
  database: Database;
  retention: Retention;
  log: Logger;
  /** How often marked buckets are rolled up; the rollup tiers lag the raw data by about this much. */
  rollupEveryMs?: number;
  pruneEveryMs?: number;
  /** The first prune, a little after start so start-up is not slowed by it. */
  firstPruneAfterMs?: number;
  /**
   * Whether this head runs the timers' jobs now (among several heads, the one leading the
   * retention loop: src/cluster/leader.ts); default always. Jobs asked for directly always run.
   */
  leads?: () => boolean;
}

export interface RetentionLoop {
  /** Runs a rollup now (tests and the benchmark); waits for one in progress first. */
  rollupNow(): Promise<RollupResult>;
  pruneNow(now?: Date): Promise<PruneResult>;
  stop(): Promise<void>;
}

export function startRetentionLoop(opts: RetentionLoopOptions): RetentionLoop {
  const { database, log } = opts;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let rollupFailures = 0;

  // One job at a time: a prune and a rollup never race each other on the same rows.
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = running.then(job, job);
    running = next.catch(() => {});
    return next;
  };

  const rollup = () =>
    serial(async () => {
      const started = performance.now();
      const r = await database.withAdvisoryLock(RETENTION_LOCK, () => rollupPending(database));
      if (r.minutes + r.hours > 0) log.debug("rolled up", { ...r, ms: Math.round(performance.now() - started) });
      return r;
    });

  const pruneJob = (now?: Date) =>
    serial(async () => {
      const started = performance.now();
      const removed = await database.withAdvisoryLock(RETENTION_LOCK, () => prune(database, opts.retention, { now }));
      const total = Object.values(removed).reduce((a, b) => a + b, 0);
      log.info("pruned history", { removed: total, ...removed, ms: Math.round(performance.now() - started) });
      return removed;
    });

  const leads = opts.leads ?? (() => true);
  const rollupTimer = setInterval(() => {
    if (stopped || !leads()) return;
    rollup().then(
      () => {
        rollupFailures = 0;
      },
      (err: unknown) => {
        // A database away for a while fails every tick: say so once, then every 10th time.
        if (rollupFailures++ % 10 === 0) log.warn("rollup failed; will retry", { error: err, failures: rollupFailures });
      },
    );
  }, opts.rollupEveryMs ?? 15_000);
  rollupTimer.unref();

  const pruneSafely = () => {
    if (stopped || !leads()) return;
    pruneJob().catch((err: unknown) => log.warn("pruning failed; will retry next hour", { error: err }));
  };
  const firstPrune = setTimeout(pruneSafely, opts.firstPruneAfterMs ?? 60_000);
  firstPrune.unref();
  const pruneTimer = setInterval(pruneSafely, opts.pruneEveryMs ?? 3600_000);
  pruneTimer.unref();

  return {
    rollupNow: rollup,
    pruneNow: pruneJob,
    async stop() {
      stopped = true;
      clearInterval(rollupTimer);
      clearInterval(pruneTimer);
      clearTimeout(firstPrune);
      await running;
    },
  };
}

/** The retention settings of the head's config, as the pruner takes them. */
export function retentionOf(config: {
  retentionRaw: number;
  retention1m: number;
  retention1h: number;
  retentionProcesses: number;
}): Retention {
  return { raw: config.retentionRaw, minute: config.retention1m, hour: config.retention1h, processes: config.retentionProcesses };
}
