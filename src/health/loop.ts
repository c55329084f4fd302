// The health loop: checks every enabled service at its interval, records each result and the status windows, and tells the alert engine and the live pages.
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { statSync } from "node:fs";
import type { CheckContext, CheckOutcome, HealthStatus } from "../checks/checker.ts";
import { diagnoseCheck, runCheck } from "../checks/registry.ts";
import { checkResults, services, uptimeWindows } from "../db/schema/index.ts";
import type { HeadContext } from "../head/context.ts";
import type { Logger } from "../log.ts";
import { checkHost, outboundFetch, type OutboundPolicy } from "../net/outbound.ts";

export type ServiceRow = typeof services.$inferSelect;

export interface RequiredFiles {
  ok: boolean;
  missing: string[];
  error?: string;
}

export interface LatestCheck {
  status: HealthStatus;
  at: number;
  latencyMs: number | null;
  message: string;
  details: Record<string, unknown>;
  /** When the current status began (the open window's start). */
  since: number;
  /** The service's required files as last checked, when it has any. */
  files?: RequiredFiles;
}

export interface HealthLoopOptions {
  head: HeadContext;
  log: Logger;
  policy: OutboundPolicy;
  now?: () => number;
}

/**
 * One timer per service, re-armed after each check finishes (a slow check never overlaps itself).
 * A check's result, its window change and the alert transition are written before the next check
 * of that service starts; the latest result per service is kept in memory for the pages and the gate.
 */
export class HealthLoop {
  private rows = new Map<number, ServiceRow>();
  private latest = new Map<number, LatestCheck>();
  private timers = new Map<number, ReturnType<typeof setTimeout>>();
  private inFlight = new Map<number, Promise<LatestCheck | undefined>>();
  private scheduling = false;
  private stopped = false;
  /** Whether this head runs the checks on timers and tells the alert engine (among several heads, one does). */
  private leading = false;
  readonly now: () => number;
  readonly stats = { checks: 0, failures: 0 };

  constructor(private readonly o: HealthLoopOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Loads the services and their latest results, so pages and the gate answer at once after a restart; `lead` starts the checks. */
  async start(): Promise<void> {
    await this.load();
    await this.readNewest();
  }

  /** This head runs the checks (the only head, or the one holding the loop's lock); with `schedule`, on their timers (the first at once, spread over 2 s). */
  async lead(opts: { schedule?: boolean } = {}): Promise<void> {
    this.stopped = false;
    await this.load();
    await this.readNewest();
    this.leading = true;
    if (opts.schedule) {
      this.scheduling = true;
      let i = 0;
      for (const id of this.rows.keys()) this.arm(id, Math.min(2_000, 100 * i++));
    }
  }

  /** Another head runs the checks now: stop the timers and wait for the checks in flight. */
  async follow(): Promise<void> {
    this.leading = false;
    this.scheduling = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * Another head changed services or recorded results: re-read them. The leading head also hands
   * results it did not make itself (a re-check on another head) to the alert engine.
   */
  async resync(serviceIds: readonly number[]): Promise<void> {
    if (serviceIds.length === 0) {
      await this.reload();
      return;
    }
    const before = new Map(serviceIds.map((id) => [id, this.latest.get(id)?.at ?? 0]));
    await this.readNewest(serviceIds);
    if (!this.leading) return;
    for (const id of serviceIds) {
      const row = this.rows.get(id);
      const now = this.latest.get(id);
      if (!row || !now || now.at <= (before.get(id) ?? 0)) continue;
      await this.tellEngine(row, now.status, now.latencyMs, now.message);
    }
  }

  private async readNewest(only?: readonly number[]): Promise<void> {
    const db = this.o.head.database.db;
    const filter = only
      ? sql`where service_id in (${sql.join(
          only.map((id) => sql`${id}`),
          sql`, `,
        )})`
      : sql``;
    // The newest result and the open window of each service.
    const newest = await db.execute(
      sql`select distinct on (service_id) service_id, at, status, latency_ms, message, details from ${checkResults} ${filter} order by service_id, at desc`,
    );
    const open = await db.select().from(uptimeWindows).where(isNull(uptimeWindows.endedAt));
    for (const r of (newest as unknown as { rows: Record<string, unknown>[] }).rows) {
      const id = Number(r.service_id);
      const w = open.find((x) => x.serviceId === id);
      const at = new Date(r.at as string).getTime();
      if ((this.latest.get(id)?.at ?? 0) > at) continue;
      this.latest.set(id, {
        status: r.status as HealthStatus,
        at,
        latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
        message: String(r.message ?? ""),
        details: (r.details ?? {}) as Record<string, unknown>,
        since: w ? w.startedAt.getTime() : at,
        ...((r.details as { requiredFiles?: RequiredFiles } | null)?.requiredFiles
          ? { files: (r.details as { requiredFiles: RequiredFiles }).requiredFiles }
          : {}),
      });
    }
  }

  private async load(): Promise<void> {
    const rows = await this.o.head.database.db.select().from(services).orderBy(services.name);
    const next = new Map(rows.map((r) => [r.id, r]));
    for (const id of this.rows.keys()) {
      if (next.has(id)) continue;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      this.latest.delete(id);
      this.o.head.alerts.forgetService(id);
    }
    this.rows = next;
  }

  /** Re-reads the services (after one was added, changed or removed) and checks the changed ones at once. */
  async reload(changedId?: number): Promise<void> {
    await this.load();
    if (!this.scheduling) return;
    for (const id of this.rows.keys()) if (!this.timers.has(id) || id === changedId) this.arm(id, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private arm(id: number, delayMs: number): void {
    clearTimeout(this.timers.get(id));
    if (this.stopped) return;
    const row = this.rows.get(id);
    if (!row || !row.enabled) {
      this.timers.delete(id);
      return;
    }
    const t = setTimeout(async () => {
      await this.checkNow(id).catch((err) => this.o.log.error("health check failed to record", { service: row.name, error: err }));
      if (this.timers.get(id) === t) this.arm(id, (this.rows.get(id)?.intervalSeconds ?? row.intervalSeconds) * 1000);
    }, delayMs);
    this.timers.set(id, t);
  }

  services(): ServiceRow[] {
    return [...this.rows.values()];
  }

  service(id: number): ServiceRow | undefined {
    return this.rows.get(id);
  }

  latestOf(id: number): LatestCheck | undefined {
    return this.latest.get(id);
  }

  private context(row: ServiceRow): CheckContext {
    const { policy } = this.o;
    const timeoutMs = row.timeoutSeconds * 1000;
    return {
      now: this.now,
      timeoutMs,
      degradedLatencyMs: row.degradedLatencyMs,
      fetch: (url, init) => outboundFetch(url, init ?? {}, policy, { timeoutMs }),
      checkHost: async (host) => {
        await checkHost(host, policy);
      },
      head: this.o.head,
      workerId: row.workerId,
      probe: (workerId, probe, ms) => this.o.head.probes.run(workerId, probe, ms),
      // A little past the check's own timeout: the checker says what timed out; this only stops a stuck one.
      signal: AbortSignal.timeout(timeoutMs + 2_000),
    };
  }

  /** Checks a service now (the "re-check" action, and each timer), records the result, and returns it. */
  checkNow(id: number): Promise<LatestCheck | undefined> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.runAndRecord(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  /** The checker's longer look (the "diagnose" action): one line per thing tried and found. */
  async diagnose(id: number): Promise<string[]> {
    const row = this.rows.get(id);
    if (!row) return [`no service with id ${id}`];
    return diagnoseCheck(row.kind, row.config, this.context(row));
  }

  private async runAndRecord(id: number): Promise<LatestCheck | undefined> {
    const row = this.rows.get(id);
    if (!row) return undefined;
    const outcome: CheckOutcome = await runCheck(row.kind, row.config, this.context(row));
    const files = row.requiredFiles.length ? await this.requiredFiles(row) : undefined;
    this.stats.checks++;
    if (outcome.status !== "healthy") this.stats.failures++;
    if (!this.rows.has(id)) return undefined; // removed while it ran
    return this.record(row, outcome, this.now(), files);
  }

  /** Whether the service's required files exist: on the head, or on its worker through the agent. */
  private async requiredFiles(row: ServiceRow): Promise<RequiredFiles> {
    const paths = row.requiredFiles;
    if (row.workerId === null) {
      const missing = paths.filter((p) => {
        try {
          statSync(p);
          return false;
        } catch {
          return true;
        }
      });
      return { ok: missing.length === 0, missing };
    }
    try {
      const answer = await this.o.head.probes.run(row.workerId, { kind: "files", paths: [...paths] }, row.timeoutSeconds * 1000);
      if (!answer.ok) return { ok: false, missing: [], error: answer.error ?? "the agent could not check the files" };
      const found = (answer.result.files ?? []) as { path: string; exists: boolean }[];
      const missing = paths.filter((p) => !found.find((f) => f.path === p)?.exists);
      return { ok: missing.length === 0, missing };
    } catch (err) {
      return { ok: false, missing: [], error: (err as Error).message };
    }
  }

  /** Writes the result and, when the status changed, closes the open window and opens the next; then tells the engine and the pages. */
  async record(row: ServiceRow, outcome: CheckOutcome, at: number, files?: RequiredFiles): Promise<LatestCheck> {
    const db = this.o.head.database.db;
    const details = files ? { ...outcome.details, requiredFiles: files } : outcome.details;
    let since = at;
    await db.transaction(async (tx) => {
      const [result] = await tx
        .insert(checkResults)
        .values({
          serviceId: row.id,
          at: new Date(at),
          status: outcome.status,
          latencyMs: outcome.latencyMs,
          message: outcome.message,
          details,
        })
        .returning({ id: checkResults.id });
      const [open] = await tx
        .select()
        .from(uptimeWindows)
        .where(and(eq(uptimeWindows.serviceId, row.id), isNull(uptimeWindows.endedAt)))
        .orderBy(desc(uptimeWindows.startedAt))
        .limit(1);
      if (open && open.status === outcome.status) {
        since = open.startedAt.getTime();
        return;
      }
      if (open)
        await tx
          .update(uptimeWindows)
          .set({ endedAt: new Date(at) })
          .where(eq(uptimeWindows.id, open.id));
      await tx.insert(uptimeWindows).values({
        serviceId: row.id,
        status: outcome.status,
        startedAt: new Date(at),
        message: outcome.message,
        details,
        firstResultId: result!.id,
      });
    });
    const latest: LatestCheck = {
      status: outcome.status,
      at,
      latencyMs: outcome.latencyMs,
      message: outcome.message,
      details,
      since,
      files,
    };
    this.latest.set(row.id, latest);
    this.o.head.live.bus.publish({ topic: "health", serviceIds: [row.id] });
    // A re-check on a head that does not lead: the leading head reads the result when the event reaches it.
    if (this.leading) await this.tellEngine(row, outcome.status, outcome.latencyMs, outcome.message);
    return latest;
  }

  private tellEngine(row: ServiceRow, status: HealthStatus, latencyMs: number | null, message: string): Promise<void> {
    return this.o.head.alerts.observeService(
      { id: row.id, name: row.name, workerId: row.workerId, escalationSeconds: row.escalationSeconds, channelIds: row.channelIds },
      status,
      { latencyMs, message },
    );
  }
}
