// Loop leadership among heads sharing one PostgreSQL: each loop runs on the one head holding its session-level advisory lock.
import type pg from "pg";
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";

/**
 * Every loop that must run on one head at a time, with its advisory-lock key. The keys live here
 * and nowhere else (the migration lock 0x76696769 and the retention job lock 0x76696702 are
 * short-lived transaction-scope locks of their own, distinct from these).
 */
export const LOOP_LOCKS = {
  /** Alert evaluation: samples and ticks against the rules, transitions and queued deliveries. */
  alerts: 0x76_69_67_10,
  /** Notification delivery: sends the queued rows. */
  deliveries: 0x76_69_67_11,
  /** Rollups and pruning of history. */
  retention: 0x76_69_67_12,
  /** Service health checks (they feed the alert engine in memory, so they ride with the alerts loop). */
  health: 0x76_69_67_13,
} as const;

export type LoopName = keyof typeof LOOP_LOCKS;

/** What a loop does when this head gains or loses it; both are awaited, one at a time. */
export interface LoopHooks {
  /** Rebuild what the loop keeps in memory from the database, then start it. */
  lead(): Promise<void>;
  /** Stop it (another head leads, or this one lost its connection). */
  follow(): Promise<void>;
}

export interface LeadershipOptions {
  database: Database;
  log: Logger;
  /** How often a standby head tries the locks it lacks: the longest a loop stays leaderless after its head dies. */
  retryMs?: number;
}

/**
 * Loops that need another loop on the same head: the health loop hands its results to the alert
 * engine in memory, so a head takes `health` only while it leads `alerts`.
 */
const RIDES_WITH: Partial<Record<LoopName, LoopName>> = { health: "alerts" };

/**
 * One dedicated connection (outside the pool) holds every lock this head leads with: when the
 * process dies the server closes the session and the locks go with it, so the standby heads' next
 * try succeeds. On PGlite there is one process, which always leads.
 */
export class Leadership {
  private hooks = new Map<LoopName, LoopHooks>();
  private held = new Set<LoopName>();
  private client: pg.Client | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  private connectFailures = 0;
  readonly retryMs: number;
  readonly stats = { takeovers: 0, losses: 0 };

  constructor(private readonly o: LeadershipOptions) {
    this.retryMs = o.retryMs ?? 1_000;
  }

  /** Registers a loop; call before start. */
  register(name: LoopName, hooks: LoopHooks): void {
    if (this.hooks.has(name)) throw new Error(`loop ${name} is already registered for leadership`);
    this.hooks.set(name, hooks);
  }

  leads(name: LoopName): boolean {
    return this.held.has(name);
  }

  /** The loops this head leads now (for /metrics, the health check and tests). */
  leading(): LoopName[] {
    return [...this.held];
  }

  /** Takes what it can now (awaited, so a single head starts with its loops running), then retries on a timer. */
  async start(): Promise<void> {
    await this.serial(() => this.tryAll());
    if (this.o.database.engine === "pglite") return;
    this.timer = setInterval(() => void this.serial(() => this.tryAll()), this.retryMs);
    this.timer.unref?.();
  }

  /** Stops every loop it leads, then lets go of the locks (the standby heads take over at their next try). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round;
    await this.loseAll("stopping");
    const c = this.client;
    this.client = null;
    // Ending the session releases every advisory lock it holds.
    await c?.end().catch(() => {});
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const next = this.round.then(job, job).catch((err: unknown) => this.o.log.error("leadership round failed", { error: err }));
    this.round = next;
    return next;
  }

  private order(): LoopName[] {
    // A loop that rides with another is tried after it.
    const names = [...this.hooks.keys()];
    return [...names.filter((n) => !RIDES_WITH[n]), ...names.filter((n) => RIDES_WITH[n])];
  }

  private async tryAll(): Promise<void> {
    if (this.stopped || this.o.database.isClosed()) return;
    if (this.o.database.engine === "pglite") {
      for (const name of this.order()) if (!this.held.has(name)) await this.gain(name);
      return;
    }
    const c = await this.connection();
    if (!c) return;
    for (const name of this.order()) {
      const rider = RIDES_WITH[name];
      if (this.held.has(name)) {
        // Lost the loop it rides with (its lead failed): let go so the alerts leader's head can take it.
        if (rider && !this.held.has(rider)) await this.release(c, name);
        continue;
      }
      if (rider && !this.held.has(rider)) continue;
      const r = await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [LOOP_LOCKS[name]]);
      if (r.rows[0]?.ok) await this.gain(name);
    }
  }

  private async connection(): Promise<pg.Client | null> {
    if (this.client) return this.client;
    const { database, log } = this.o;
    try {
      const c = await database.dedicatedClient!("leadership");
      c.on("error", (err) => {
        log.warn("leadership connection lost; this head stops its loops until it holds their locks again", { error: err });
        void this.serial(() => this.dropConnection(c));
      });
      c.on("end", () => void this.serial(() => this.dropConnection(c)));
      this.client = c;
      if (this.connectFailures > 0) log.info("leadership connection back", { failures: this.connectFailures });
      this.connectFailures = 0;
      return c;
    } catch (err) {
      if (this.connectFailures++ % 30 === 0) log.warn("cannot open the leadership connection; will retry", { error: err });
      return null;
    }
  }

  private async dropConnection(c: pg.Client): Promise<void> {
    if (this.client !== c) return;
    this.client = null;
    await this.loseAll("connection lost");
    await c.end().catch(() => {});
  }

  private async gain(name: LoopName): Promise<void> {
    const started = performance.now();
    this.held.add(name);
    try {
      await this.hooks.get(name)!.lead();
    } catch (err) {
      // Could not start it: give the lock back, so a head that can runs it.
      this.held.delete(name);
      this.o.log.error("could not start a loop this head leads; letting it go", { loop: name, error: err });
      if (this.client) await this.client.query("select pg_advisory_unlock($1)", [LOOP_LOCKS[name]]).catch(() => {});
      return;
    }
    this.stats.takeovers++;
    // A single head leads from the start: worth a line only where heads share the loops.
    const fields = { loop: name, ms: Math.round(performance.now() - started) };
    if (this.o.database.engine === "pglite") this.o.log.debug("leading loop", fields);
    else this.o.log.info("leading loop", fields);
  }

  private async release(c: pg.Client, name: LoopName): Promise<void> {
    await this.lose(name, "the loop it rides with went elsewhere");
    await c.query("select pg_advisory_unlock($1)", [LOOP_LOCKS[name]]);
  }

  private async lose(name: LoopName, why: string): Promise<void> {
    if (!this.held.delete(name)) return;
    this.stats.losses++;
    try {
      await this.hooks.get(name)!.follow();
    } catch (err) {
      this.o.log.error("stopping a loop failed", { loop: name, error: err });
    }
    // As for "leading loop": on PGlite one head leads everything, and saying so is noise.
    if (this.o.database.engine === "pglite") this.o.log.debug("stopped leading loop", { loop: name, why });
    else this.o.log.info("stopped leading loop", { loop: name, why });
  }

  private async loseAll(why: string): Promise<void> {
    // Riders first: health stops before the alert engine it feeds.
    for (const name of this.order().reverse()) await this.lose(name, why);
  }
}
