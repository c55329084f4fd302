// The delivery worker: sends queued notifications through their channel, retries with backoff, and logs each attempt's outcome on the row.
import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { channels, deliveries } from "../db/schema/index.ts";
import type { Logger } from "../log.ts";
import { checkHost, outboundFetch, type OutboundPolicy } from "../net/outbound.ts";
import type { SendContext } from "../notifiers/notifier.ts";
import { deliver } from "../notifiers/registry.ts";
import type { AlertNotification } from "./notification.ts";

/** 5 s, 15 s, 45 s, ... tripling up to 30 min; with 10 attempts a delivery is retried for about 2.5 hours. */
export function defaultBackoff(attempt: number): number {
  return Math.min(5_000 * 3 ** (attempt - 1), 30 * 60_000);
}

export interface DeliveryQueueOptions {
  db: Db;
  log: Logger;
  policy: OutboundPolicy;
  now?: () => number;
  maxAttempts?: number;
  backoff?: (attempt: number) => number;
  timeoutMs?: number;
  /** Told after rows change state (the alerts page shows the delivery log live). */
  onChange?: () => void;
  /** Whether this head delivers now (among several heads, the one leading the loop: src/cluster/leader.ts); default always. */
  leads?: () => boolean;
  /**
   * Lock each row (FOR UPDATE SKIP LOCKED) from before its send until its outcome is written, so
   * that even two heads draining at once (a leader that lost its lock and has not noticed yet)
   * never send one row twice. For PostgreSQL only: on PGlite the open transaction would hold up
   * every other query of the head for the length of a send.
   */
  lockRows?: boolean;
}

interface DueRow {
  d: typeof deliveries.$inferSelect;
  kind: string;
  config: Record<string, unknown>;
  enabled: boolean;
  name: string;
}

export interface SendOutcome {
  ok: boolean;
  error?: string;
  retryable?: boolean;
  /** The service asked for at least this long before the next try (Retry-After). */
  retryAfterSeconds?: number;
}

/**
 * Reads due rows from `deliveries` and sends them, channels in parallel, each channel's rows in
 * order (a recovery never overtakes its firing). A row is marked delivered only after the channel
 * accepted it: a head that dies in between sends it again after restart, which is why every
 * notification carries an id receivers can deduplicate on.
 */
export class DeliveryQueue {
  private timer: ReturnType<typeof setInterval> | undefined;
  private draining: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  readonly now: () => number;
  readonly stats = { delivered: 0, failedAttempts: 0, givenUp: 0 };

  constructor(private readonly o: DeliveryQueueOptions) {
    this.now = o.now ?? Date.now;
  }

  start(pollMs = 1_000): void {
    this.timer = setInterval(() => {
      if (this.leads()) void this.drain();
    }, pollMs);
  }

  private leads(): boolean {
    return this.o.leads?.() ?? true;
  }

  /** Stops polling and waits for the sends in progress (each bounded by the channel timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.draining;
  }

  /** Sends what is due now (new rows were queued). */
  wake(): void {
    if (!this.stopped && this.leads()) void this.drain();
  }

  /** Sends every due row once; resolves with how many attempts were made. Overlapping calls run one drain after the other. */
  drain(): Promise<number> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          total += await this.drainOnce();
        } while (this.again);
      } catch (err) {
        this.o.log.error("delivery drain failed; rows stay queued for the next poll", { error: err });
      } finally {
        this.draining = null;
      }
      return total;
    })();
    return this.draining;
  }

  sendContext(): SendContext {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    return {
      fetch: (url, init) => outboundFetch(url, init, this.o.policy, { timeoutMs }),
      checkHost: async (host) => {
        await checkHost(host, this.o.policy);
      },
      timeoutMs,
    };
  }

  /** Sends one notification through a channel now, outside the queue (the "send test" action). */
  async sendNow(kind: string, config: Record<string, unknown>, n: AlertNotification): Promise<SendOutcome> {
    try {
      await deliver(kind, config, n, this.sendContext());
      return { ok: true };
    } catch (err) {
      const e = err as { message?: string; retryable?: boolean; retryAfterSeconds?: number };
      return { ok: false, error: e.message ?? String(err), retryable: e.retryable ?? true, retryAfterSeconds: e.retryAfterSeconds };
    }
  }

  private async drainOnce(): Promise<number> {
    const { db } = this.o;
    const now = this.now();
    const due = await db
      .select({ d: deliveries, kind: channels.kind, config: channels.config, enabled: channels.enabled, name: channels.name })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .where(and(eq(deliveries.status, "queued"), lte(deliveries.nextAttemptAt, new Date(now))))
      .orderBy(asc(deliveries.id))
      .limit(200);
    if (due.length === 0) return 0;
    // A channel whose oldest queued row waits for its retry sends nothing newer meanwhile.
    const heads = await db
      .select({ channelId: deliveries.channelId, first: sql<number>`min(${deliveries.id})::bigint` })
      .from(deliveries)
      .where(eq(deliveries.status, "queued"))
      .groupBy(deliveries.channelId);
    const firstOf = new Map(heads.map((h) => [h.channelId, Number(h.first)]));
    const byChannel = new Map<number, typeof due>();
    for (const row of due) {
      if (!byChannel.has(row.d.channelId) && firstOf.get(row.d.channelId) !== row.d.id) continue;
      const list = byChannel.get(row.d.channelId) ?? [];
      list.push(row);
      byChannel.set(row.d.channelId, list);
    }
    await Promise.all(
      [...byChannel.values()].map(async (rows) => {
        for (const row of rows) {
          // A row still waiting on an earlier one of its channel keeps the order: stop this channel here.
          if (!(await this.attempt(row))) break;
        }
      }),
    );
    this.o.onChange?.();
    return [...byChannel.values()].reduce((n, rows) => n + rows.length, 0);
  }

  /** One attempt; true when the row is settled (delivered or given up), false when it waits for a retry. */
  private attempt(row: DueRow): Promise<boolean> {
    if (!this.o.lockRows) return this.attemptWith(this.o.db, row);
    return this.o.db.transaction(async (tx) => {
      const locked = await tx
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.id, row.d.id), eq(deliveries.status, "queued"), eq(deliveries.attempts, row.d.attempts)))
        .for("update", { skipLocked: true });
      // Another head sends it right now, or has already: this channel waits for the next drain.
      if (locked.length === 0) return false;
      return this.attemptWith(tx as unknown as Db, row);
    });
  }

  private async attemptWith(db: Db, row: DueRow): Promise<boolean> {
    const { log } = this.o;
    const d = row.d;
    const outcome: SendOutcome = row.enabled
      ? await this.sendNow(row.kind, row.config, d.payload as unknown as AlertNotification)
      : { ok: false, error: "channel disabled", retryable: false };
    const now = this.now();
    const attempts = d.attempts + 1;
    if (outcome.ok) {
      this.stats.delivered++;
      await db
        .update(deliveries)
        .set({ status: "delivered", attempts, deliveredAt: new Date(now), lastError: null })
        .where(eq(deliveries.id, d.id));
      return true;
    }
    this.stats.failedAttempts++;
    const max = this.o.maxAttempts ?? 10;
    const giveUp = outcome.retryable === false || attempts >= max;
    if (giveUp) this.stats.givenUp++;
    log.warn(giveUp ? "delivery failed, giving up" : "delivery failed, will retry", {
      channel: row.name,
      delivery: d.id,
      attempts,
      error: outcome.error,
    });
    await db
      .update(deliveries)
      .set({
        status: giveUp ? "failed" : "queued",
        attempts,
        lastError: outcome.error?.slice(0, 1000) ?? "failed",
        nextAttemptAt: new Date(
          now + (giveUp ? 0 : Math.max((this.o.backoff ?? defaultBackoff)(attempts), (outcome.retryAfterSeconds ?? 0) * 1000)),
        ),
      })
      .where(eq(deliveries.id, d.id));
    return giveUp;
  }

  /** Rows waiting or failing, for the channels page and /metrics. */
  async backlog(): Promise<{ queued: number; failed: number }> {
    const rows = await this.o.db
      .select({ status: deliveries.status, n: sql<number>`count(*)::int` })
      .from(deliveries)
      .groupBy(deliveries.status);
    const by = new Map(rows.map((r) => [r.status, r.n]));
    return { queued: by.get("queued") ?? 0, failed: by.get("failed") ?? 0 };
  }
}
