// The alert engine: evaluates every sample against the rules, ticks for offline workers and repeats, and commits each transition with its deliveries in one transaction.
import { and, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { alertEvents, alerts, channels, deliveries, services, silences, workers } from "../db/schema/index.ts";
import { workerStatus } from "../fleet/workers.ts";
import type { Logger } from "../log.ts";
import type { GpuVitals, Sample } from "../protocol/sample.ts";
import { levelOf, step, tellFor, type Level, type Observation, type OpenAlert, type Step, type Subject, type Tell } from "./evaluate.ts";
import { notificationFor } from "./message.ts";
import { alertMetric } from "./metrics.ts";
import type { NotificationEvent, Severity } from "./notification.ts";
import { loadRules, type RuleSet, type ThresholdRule } from "./rules.ts";

interface WorkerFacts {
  name: string;
  intervalSeconds: number;
  /** When the engine last heard from it (its own clock, so tests can drive time). */
  heardAt: number | null;
}

export interface SilenceRow {
  id: number;
  kind: string;
  workerId: number | null;
  gpuUuid: string | null;
  rule: string | null;
  startsAt: number;
  endsAt: number;
}

export interface ChannelTarget {
  id: number;
  kind: string;
  enabled: boolean;
  minSeverity: Severity;
  tier: number;
}

export interface AlertEngineOptions {
  db: Db;
  log: Logger;
  /** The engine's clock (tests script time with it). */
  now?: () => number;
  /** Where links in notifications point (VIGIL_PUBLIC_URL); a bare path without it. */
  baseUrl?: string;
  /** Told after changes commit, with the workers whose alerts changed (the live hub redraws, the delivery queue wakes). */
  onChange?: (change: { workerIds: number[]; enqueued: number }) => void;
}

/** Thermal and hardware slowdowns; the software power cap counts only when the rule's includePowerCap is 1 (busy GPUs sit at it). */
const THROTTLE_SLOWDOWNS = new Set(["hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"]);

interface Change {
  key: string;
  step: Step;
  tell: Tell | null;
  /** Severity last told before this change (what a recovery or de-escalation reports to channels). */
  toldBefore: Severity | null;
}

const keyOf = (rule: string, subject: string) => `${rule}|${subject}`;

/** The rule of every service-health alert; its subject is `svc<id>`. */
export const HEALTH_RULE = "health:service";

/**
 * Holds the open alerts in memory (rebuilt from the database at start) and runs every change
 * through one queue, so evaluations never interleave and the database always leads memory: state
 * moves only after its transaction commits, and a failed commit is retried by the next sample.
 */
export class AlertEngine {
  private open = new Map<string, OpenAlert>();
  private lastFiringTold = new Map<string, number>();
  private workers = new Map<number, WorkerFacts>();
  private knownGpus = new Map<number, Map<string, { index: number; name: string }>>();
  private ecc = new Map<string, { count: number; increasedAt: number | null }>();
  private serviceFacts = new Map<number, { name: string; escalationSeconds: number; message: string; channelIds: readonly number[] }>();
  private silenceRows: SilenceRow[] = [];
  private channelRows: ChannelTarget[] = [];
  private queue: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  rules!: RuleSet;
  readonly now: () => number;
  readonly stats = { evaluations: 0, transitions: 0, enqueued: 0, errors: 0 };

  constructor(private readonly o: AlertEngineOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Loads rules, silences, channels and the open alerts, then ticks. Called once on a single head;
   * among several heads, again each time this head takes the loop over: everything in memory is
   * rebuilt from the database, which the previous leader kept ahead of its own memory.
   */
  async start(opts: { tickMs?: number; latest?: readonly { workerId: number; sample: Sample }[] } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
    for (const m of [this.open, this.lastFiringTold, this.workers, this.knownGpus, this.ecc, this.serviceFacts]) m.clear();
    await this.reload();
    // The last sample stored before a restart is the baseline: a GPU gone or an ECC count risen since then still counts.
    for (const { workerId, sample } of opts.latest ?? []) {
      this.knownGpus.set(workerId, new Map(sample.gpus.map((g) => [g.uuid, { index: g.index, name: g.name }])));
      for (const g of sample.gpus)
        if (g.eccUncorrected !== null) this.ecc.set(`${workerId}/${g.uuid}`, { count: g.eccUncorrected, increasedAt: null });
    }
    const { db } = this.o;
    const rows = await db.select().from(workers).where(isNull(workers.revokedAt));
    for (const w of rows)
      this.workers.set(w.id, { name: w.name, intervalSeconds: w.intervalSeconds, heardAt: w.lastSeenAt?.getTime() ?? null });
    for (const svc of await db.select().from(services))
      this.serviceFacts.set(svc.id, { name: svc.name, escalationSeconds: svc.escalationSeconds, message: "", channelIds: svc.channelIds });
    const open = await db.select().from(alerts).where(ne(alerts.state, "resolved"));
    for (const r of open) {
      const a = openAlertOf(r);
      this.open.set(keyOf(a.rule, a.subject), a);
      if (a.rule === "builtin:ecc" && a.gpuUuid)
        this.ecc.set(`${a.workerId}/${a.gpuUuid}`, {
          count: this.ecc.get(`${a.workerId}/${a.gpuUuid}`)?.count ?? a.value ?? 0,
          increasedAt: a.firedAt ?? a.startedAt,
        });
    }
    // Cooldowns outlive the alerts they follow: the last firing told per rule and subject.
    const since = new Date(this.now() - this.rules.settings.cooldownSeconds * 1000);
    const told = await db
      .select({ rule: alerts.rule, subject: alerts.subject, at: sql<string>`max(${alertEvents.at})` })
      .from(alertEvents)
      .innerJoin(alerts, eq(alerts.id, alertEvents.alertId))
      .where(and(eq(alertEvents.kind, "firing"), eq(alertEvents.notified, true), gt(alertEvents.at, since)))
      .groupBy(alerts.rule, alerts.subject);
    for (const t of told) this.lastFiringTold.set(keyOf(t.rule, t.subject), new Date(t.at).getTime());
    if (opts.tickMs) this.timer = setInterval(() => void this.tick(), opts.tickMs);
  }

  /** Stops ticking and waits for the evaluation in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  /**
   * Re-reads the open alerts as well as the rules (another head changed them: the leader
   * transitioned an alert, or an admin on another head acknowledged one or changed a rule).
   * Through the queue, so it never lands in the middle of an evaluation.
   */
  resync(): Promise<void> {
    return this.run(async () => {
      await this.reload();
      const rows = await this.o.db.select().from(alerts).where(ne(alerts.state, "resolved"));
      this.open = new Map(rows.map((r) => openAlertOf(r)).map((a) => [keyOf(a.rule, a.subject), a]));
    }).catch((err) => this.failed("resync", err));
  }

  /** Re-reads rules, settings, silences and channels (after an admin changed one). */
  async reload(): Promise<void> {
    const { db } = this.o;
    const [rules, sil, ch] = await Promise.all([
      loadRules(db),
      db.select().from(silences).where(isNull(silences.cancelledAt)),
      db.select().from(channels),
    ]);
    this.rules = rules;
    this.silenceRows = sil.map((s) => ({
      id: s.id,
      kind: s.kind,
      workerId: s.workerId,
      gpuUuid: s.gpuUuid,
      rule: s.rule,
      startsAt: s.startsAt.getTime(),
      endsAt: s.endsAt.getTime(),
    }));
    this.channelRows = ch.map((c) => ({
      id: c.id,
      kind: c.kind,
      enabled: c.enabled,
      minSeverity: c.minSeverity === "critical" ? "critical" : "warning",
      tier: c.tier,
    }));
  }

  /** Queues work so that evaluations, ticks and acknowledgements run one at a time. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Resolves when everything queued so far is done (tests wait on it). */
  idle(): Promise<void> {
    return this.run(async () => undefined);
  }

  /** Evaluates a worker's newest sample. */
  observe(workerId: number, workerName: string, sample: Sample, intervalSeconds?: number): Promise<void> {
    return this.run(() => this.evaluateSample(workerId, workerName, sample, intervalSeconds)).catch((err) => this.failed("evaluate", err));
  }

  /** Offline workers, deferred notifications (silence or cooldown over), repeats and escalations. */
  tick(): Promise<void> {
    return this.run(() => this.evaluateTick()).catch((err) => this.failed("tick", err));
  }

  private failed(what: string, err: unknown): void {
    this.stats.errors++;
    this.o.log.error(`alert ${what} failed; state unchanged, the next sample or tick retries`, { error: err });
  }

  /** The open alerts (pending, firing, no data), for the API and the pages. */
  list(): OpenAlert[] {
    return [...this.open.values()];
  }

  openFor(workerId: number): OpenAlert[] {
    return this.list().filter((a) => a.workerId === workerId);
  }

  workerName(id: number | null): string {
    return id === null ? "the head" : (this.workers.get(id)?.name ?? `worker ${id}`);
  }

  /** What the alert is about, in words: its worker, or for a service's health the service's name. */
  subjectName(a: Pick<OpenAlert, "workerId" | "serviceId">): string {
    if (a.serviceId !== null) return this.serviceFacts.get(a.serviceId)?.name ?? `service ${a.serviceId}`;
    return this.workerName(a.workerId);
  }

  /**
   * A service's latest check, as the health loop reports it: degraded is a warning, down is critical,
   * both firing at once (the dashboard shows them); channels hear of it only once it has lasted the
   * service's escalation delay, never as a repeat, and its recovery once it is healthy again.
   */
  observeService(
    svc: { id: number; name: string; workerId: number | null; escalationSeconds: number; channelIds?: readonly number[] },
    status: "healthy" | "degraded" | "down",
    check: { latencyMs: number | null; message: string },
  ): Promise<void> {
    return this.run(async () => {
      const now = this.now();
      this.serviceFacts.set(svc.id, {
        name: svc.name,
        escalationSeconds: svc.escalationSeconds,
        message: check.message,
        channelIds: svc.channelIds ?? [],
      });
      const subject: Subject = {
        rule: HEALTH_RULE,
        subject: `svc${svc.id}`,
        workerId: svc.workerId,
        serviceId: svc.id,
        gpuUuid: null,
        gpuIndex: null,
      };
      const key = keyOf(subject.rule, subject.subject);
      const cur = this.open.get(key) ?? null;
      const level = status === "healthy" ? "ok" : status === "degraded" ? "warning" : "critical";
      const s = step(cur, subject, { kind: "value", level, value: check.latencyMs, threshold: null }, now, 0);
      if (s.next === cur && s.transition === null) return;
      await this.commit([{ key, step: s, cur }], now);
    }).catch((err) => this.failed("service evaluation", err));
  }

  /** Forgets a deleted service's open alert from memory (its rows go with it by cascade). */
  forgetService(id: number): void {
    this.open.delete(keyOf(HEALTH_RULE, `svc${id}`));
    this.serviceFacts.delete(id);
  }

  /** Why channels must stay quiet about an alert now, if they must. */
  suppressedBy(a: OpenAlert, now: number): string | null {
    for (const s of this.silenceRows) {
      if (s.startsAt > now || s.endsAt <= now) continue;
      if (s.workerId !== null && s.workerId !== a.workerId) continue;
      if (s.gpuUuid !== null && s.gpuUuid !== a.gpuUuid) continue;
      if (s.rule !== null && s.rule !== a.rule) continue;
      return s.kind === "maintenance" ? "maintenance" : "silenced";
    }
    if (a.rule === HEALTH_RULE && a.notifiedSeverity === null) {
      const delay = (this.serviceFacts.get(a.serviceId ?? -1)?.escalationSeconds ?? 300) * 1000;
      if (now - (a.firedAt ?? a.startedAt) < delay) return "delay";
    }
    if (a.notifiedSeverity === null) {
      const last = this.lastFiringTold.get(keyOf(a.rule, a.subject));
      if (last !== undefined && now - last < this.rules.settings.cooldownSeconds * 1000) return "cooldown";
    }
    return null;
  }

  private tellOf(a: OpenAlert, now: number): Tell | null {
    const maxTier = this.channelRows.reduce((m, c) => (c.enabled ? Math.max(m, c.tier) : m), 1);
    const s = this.rules.settings;
    return tellFor(a, now, {
      suppressedBy: this.suppressedBy(a, now),
      // A service still down is one ongoing issue: told once, then its recovery.
      repeatMs: a.rule === HEALTH_RULE ? 0 : s.repeatSeconds * 1000,
      escalationMs: s.escalationMinutes * 60_000,
      maxTier,
    });
  }

  private async evaluateSample(workerId: number, workerName: string, sample: Sample, intervalSeconds?: number): Promise<void> {
    const now = this.now();
    this.stats.evaluations++;
    let facts = this.workers.get(workerId);
    if (!facts) {
      // A worker enrolled since the engine started: its interval decides when it counts as offline.
      const [row] = await this.o.db.select({ intervalSeconds: workers.intervalSeconds }).from(workers).where(eq(workers.id, workerId));
      facts = { name: workerName, intervalSeconds: row?.intervalSeconds ?? 1, heardAt: null };
    }
    this.workers.set(workerId, {
      name: workerName,
      intervalSeconds: intervalSeconds ?? facts?.intervalSeconds ?? 1,
      heardAt: now,
    });
    const rules = this.rules;
    const steps: { key: string; step: Step; cur: OpenAlert | null }[] = [];
    const seen = new Set<string>();
    const consider = (subject: Subject, obs: Observation, forMs: number) => {
      const key = keyOf(subject.rule, subject.subject);
      seen.add(key);
      const cur = this.open.get(key) ?? null;
      const s = step(cur, subject, obs, now, forMs);
      if (s.next === cur && s.transition === null) return;
      steps.push({ key, step: s, cur });
    };
    const heldLevel = (key: string): Level => this.open.get(key)?.severity ?? "ok";
    const hostSubject = (rule: string): Subject => ({ rule, subject: `w${workerId}`, workerId, gpuUuid: null, gpuIndex: null });
    const gpuSubject = (rule: string, uuid: string, index: number): Subject => ({
      rule,
      subject: `w${workerId}/gpu:${uuid}`,
      workerId,
      gpuUuid: uuid,
      gpuIndex: index,
    });
    const threshold = (subject: Subject, rule: ThresholdRule | undefined, value: number | null) => {
      const key = keyOf(subject.rule, subject.subject);
      const cur = this.open.get(key);
      seen.add(key);
      if (!rule || !rule.enabled) {
        if (cur) consider(subject, { kind: "value", level: "ok", value, threshold: null }, 0);
        return;
      }
      if (value === null) {
        if (cur) consider(subject, { kind: "nodata" }, 0);
        return;
      }
      const level = levelOf(value, rule, heldLevel(key));
      const t = level === "critical" ? rule.critical : level === "warning" ? rule.warning : (rule.warning ?? rule.critical);
      consider(subject, { kind: "value", level, value, threshold: t }, rule.forSeconds * 1000);
    };

    const live = sample.gpus.filter((g) => !g.lost);
    for (const metric of rules.metrics) {
      const m = alertMetric(metric);
      if (!m) continue;
      const rule = `threshold:${metric}`;
      if (m.scope === "gpu" && m.readGpu) {
        for (const g of live) threshold(gpuSubject(rule, g.uuid, g.index), rules.resolve(metric, workerId, g.uuid), m.readGpu(g));
      } else if (m.readHost) {
        threshold(hostSubject(rule), rules.resolve(metric, workerId, null), m.readHost(sample));
      }
    }

    // Built-in rules. A disabled one still closes what it had open.
    const builtin = (
      kind: Parameters<RuleSet["builtin"]>[0],
      subject: Subject,
      active: boolean,
      value: number | null,
      thr: number | null,
    ) => {
      const b = rules.builtin(kind);
      const on = b.enabled && active;
      if (!on && !this.open.has(keyOf(subject.rule, subject.subject))) {
        seen.add(keyOf(subject.rule, subject.subject));
        return;
      }
      consider(subject, { kind: "value", level: on ? b.severity : "ok", value, threshold: thr }, b.forSeconds * 1000);
    };
    builtin("offline", hostSubject("builtin:offline"), false, null, null);

    let known = this.knownGpus.get(workerId);
    if (!known) this.knownGpus.set(workerId, (known = new Map()));
    for (const g of sample.gpus) known.set(g.uuid, { index: g.index, name: g.name });
    const present = new Set(live.map((g) => g.uuid));
    for (const [uuid, k] of known) builtin("gpu_lost", gpuSubject("builtin:gpu_lost", uuid, k.index), !present.has(uuid), null, null);

    const throttle = rules.builtin("throttle");
    const idle = rules.builtin("idle_allocation");
    const ecc = rules.builtin("ecc");
    for (const g of live) {
      const slowed = g.throttleReasons.some(
        (r) => THROTTLE_SLOWDOWNS.has(r) || (r === "sw_power_cap" && throttle.params.includePowerCap === 1),
      );
      builtin("throttle", gpuSubject("builtin:throttle", g.uuid, g.index), slowed, null, null);
      const memPct = g.memoryUsed !== null && g.memoryTotal ? (g.memoryUsed / g.memoryTotal) * 100 : null;
      const idleHeld =
        memPct !== null &&
        g.utilization !== null &&
        memPct >= (idle.params.memoryPercent ?? 10) &&
        g.utilization <= (idle.params.utilization ?? 0);
      builtin(
        "idle_allocation",
        gpuSubject("builtin:idle_allocation", g.uuid, g.index),
        idleHeld,
        memPct,
        idle.params.memoryPercent ?? null,
      );
      builtin(
        "ecc",
        gpuSubject("builtin:ecc", g.uuid, g.index),
        this.eccRising(workerId, g, now, ecc.params.clearAfterSeconds ?? 86_400),
        g.eccUncorrected,
        null,
      );
    }

    // What this sample said nothing about (a GPU gone, a metric no longer reported) has no data, which is not a recovery.
    for (const [key, a] of this.open) {
      if (a.workerId !== workerId || a.serviceId !== null || seen.has(key)) continue;
      const s = step(a, a, { kind: "nodata" }, now, 0);
      if (s.transition) steps.push({ key, step: s, cur: a });
    }
    await this.commit(steps, now);
  }

  /** Whether the GPU's uncorrected ECC count went up within the clearing window. The first value seen is the baseline. */
  private eccRising(workerId: number, g: GpuVitals, now: number, clearAfterSeconds: number): boolean {
    if (g.eccUncorrected === null) return false;
    const key = `${workerId}/${g.uuid}`;
    const prev = this.ecc.get(key);
    const increasedAt = prev && g.eccUncorrected > prev.count ? now : (prev?.increasedAt ?? null);
    this.ecc.set(key, { count: g.eccUncorrected, increasedAt });
    return increasedAt !== null && now - increasedAt < clearAfterSeconds * 1000;
  }

  private async evaluateTick(): Promise<void> {
    const now = this.now();
    const steps: { key: string; step: Step; cur: OpenAlert | null }[] = [];
    const offline = this.rules.builtin("offline");
    for (const [workerId, w] of this.workers) {
      if (w.heardAt === null) continue;
      if (workerStatus(new Date(w.heardAt), w.intervalSeconds, now) !== "offline") continue;
      const subject: Subject = { rule: "builtin:offline", subject: `w${workerId}`, workerId, gpuUuid: null, gpuIndex: null };
      const key = keyOf(subject.rule, subject.subject);
      const cur = this.open.get(key) ?? null;
      if (offline.enabled) {
        const s = step(
          cur,
          subject,
          { kind: "value", level: offline.severity, value: null, threshold: null },
          now,
          offline.forSeconds * 1000,
        );
        if (s.transition || s.next !== cur) steps.push({ key, step: s, cur });
      }
      for (const [k, a] of this.open) {
        if (a.workerId !== workerId || a.serviceId !== null || k === key) continue;
        const s = step(a, a, { kind: "nodata" }, now, 0);
        if (s.transition) steps.push({ key: k, step: s, cur: a });
      }
    }
    await this.commit(steps, now, true);
  }

  /**
   * Writes the steps' transitions, events and deliveries in one transaction, then moves memory.
   * With `sweep`, also tells channels what open alerts owe them (deferred firings, repeats, escalations).
   */
  private async commit(steps: { key: string; step: Step; cur: OpenAlert | null }[], now: number, sweep = false): Promise<void> {
    const changes: Change[] = [];
    const stepped = new Set<string>();
    for (const { key, step: s, cur } of steps) {
      stepped.add(key);
      let tell: Tell | null = null;
      if (s.next) tell = this.tellOf(s.next, now);
      else if (s.transition === "resolved" && s.closed!.notifiedSeverity !== null) tell = { event: "resolved", tier: s.closed!.tier };
      else if (s.transition === "resolved") tell = { suppressed: "never-told" };
      if (!s.transition && !(tell && "event" in tell)) {
        // A value update only: memory, no row.
        if (s.next) this.open.set(key, s.next);
        continue;
      }
      changes.push({ key, step: s, tell, toldBefore: cur?.notifiedSeverity ?? null });
    }
    if (sweep) {
      for (const [key, a] of this.open) {
        if (stepped.has(key)) continue;
        const tell = this.tellOf(a, now);
        if (tell && "event" in tell) changes.push({ key, step: { next: a, transition: null }, tell, toldBefore: a.notifiedSeverity });
      }
    }
    if (changes.length === 0) return;

    const ids = new Map<Change, number>();
    let enqueued = 0;
    await this.o.db.transaction(async (tx) => {
      for (const c of changes) {
        const s = c.step;
        const a = (s.next ?? s.closed)!;
        if (s.transition === "dropped") {
          if (a.id !== null) await tx.delete(alerts).where(eq(alerts.id, a.id));
          continue;
        }
        const told = c.tell && "event" in c.tell ? c.tell : null;
        const after = this.afterTell(a, told, now, c.step.next === null);
        const row = rowOf(after, now, s.next === null);
        let id = a.id;
        if (id === null) {
          const [ins] = await tx.insert(alerts).values(row).returning({ id: alerts.id });
          id = ins!.id;
        } else {
          // An acknowledgement made on another head may not have reached memory yet (it re-reads on the
          // event that follows): never overwrite one with the null this head still holds.
          await tx
            .update(alerts)
            .set({
              ...row,
              ackedAt: sql`coalesce(${alerts.ackedAt}, ${row.ackedAt ?? null})`,
              ackedBy: sql`coalesce(${alerts.ackedBy}, ${row.ackedBy ?? null})`,
            })
            .where(eq(alerts.id, id));
        }
        ids.set(c, id);
        const withId = { ...after, id, resolvedAt: s.next === null ? now : null };
        const sameEvent = told && s.transition && told.event === (s.transition as string);
        if (s.transition) {
          const [ev] = await tx
            .insert(alertEvents)
            .values({
              alertId: id,
              at: new Date(now),
              kind: s.transition,
              severity: a.severity,
              value: a.value,
              notified: !!sameEvent,
              suppressed: c.tell && "suppressed" in c.tell ? c.tell.suppressed : null,
            })
            .returning({ id: alertEvents.id });
          if (sameEvent) enqueued += await this.enqueue(tx, ev!.id, withId, told!, now, c.toldBefore);
        }
        if (told && !sameEvent) {
          const [ev] = await tx
            .insert(alertEvents)
            .values({ alertId: id, at: new Date(now), kind: told.event, severity: a.severity, value: a.value, notified: true })
            .returning({ id: alertEvents.id });
          enqueued += await this.enqueue(tx, ev!.id, withId, told, now, c.toldBefore);
        }
      }
    });
    // Committed: memory follows.
    const workerIds = new Set<number>();
    for (const c of changes) {
      const a = (c.step.next ?? c.step.closed)!;
      if (a.workerId !== null) workerIds.add(a.workerId);
      if (c.step.transition) this.stats.transitions++;
      const told = c.tell && "event" in c.tell ? c.tell : null;
      if (c.step.next) this.open.set(c.key, { ...this.afterTell(c.step.next, told, now, false), id: ids.get(c) ?? c.step.next.id });
      else this.open.delete(c.key);
      if (told?.event === "firing") this.lastFiringTold.set(c.key, now);
    }
    this.stats.enqueued += enqueued;
    this.o.onChange?.({ workerIds: [...workerIds], enqueued });
  }

  /** The alert as it stands once channels were told (what was told, when, and the tier reached). */
  private afterTell(a: OpenAlert, told: { event: NotificationEvent; tier: number } | null, now: number, closing: boolean): OpenAlert {
    if (!told || closing) return a;
    return { ...a, notifiedSeverity: a.severity, notifiedAt: now, tier: told.tier };
  }

  /** One delivery per channel that should hear this event; returns how many were queued. */
  private async enqueue(
    tx: Parameters<Parameters<Db["transaction"]>[0]>[0],
    eventId: number,
    a: OpenAlert & { resolvedAt: number | null },
    told: { event: NotificationEvent; tier: number },
    now: number,
    toldBefore: Severity | null,
  ): Promise<number> {
    // A recovery reports the level channels knew; critical-only channels hear the end (or the easing) of what they heard.
    const severity: Severity = told.event === "resolved" ? (toldBefore ?? a.severity) : a.severity;
    const heard = told.event === "resolved" || told.event === "deescalated" ? (toldBefore ?? a.severity) : a.severity;
    // A service may name its own channels; everything else goes to every channel of the tier.
    const only = a.serviceId !== null ? this.serviceFacts.get(a.serviceId)?.channelIds : undefined;
    const targets = this.channelRows.filter(
      (c) =>
        c.enabled &&
        (!only?.length || only.includes(c.id)) &&
        (told.event === "escalation" ? c.tier === told.tier : c.tier <= told.tier) &&
        (c.minSeverity === "warning" || heard === "critical"),
    );
    if (targets.length === 0) return 0;
    const names = {
      workerName: this.subjectName(a),
      gpuName: a.gpuUuid && a.workerId !== null ? (this.knownGpus.get(a.workerId)?.get(a.gpuUuid)?.name ?? null) : null,
      detail: a.serviceId !== null ? (this.serviceFacts.get(a.serviceId)?.message ?? null) : null,
    };
    const values = targets.map((c) => {
      const payload = notificationFor(a, told.event, `${eventId}.${c.id}`, now, names, this.o.baseUrl ?? "", severity);
      // The in-app list reads the alerts table itself: its delivery is done when it is written.
      const instant = c.kind === "dashboard";
      return {
        eventId,
        alertId: a.id,
        channelId: c.id,
        status: instant ? "delivered" : "queued",
        attempts: instant ? 1 : 0,
        nextAttemptAt: new Date(now),
        payload: payload as unknown as Record<string, unknown>,
        createdAt: new Date(now),
        deliveredAt: instant ? new Date(now) : null,
      };
    });
    await tx.insert(deliveries).values(values).onConflictDoNothing();
    return values.filter((v) => v.status === "queued").length;
  }

  /** Acknowledges an open alert: repeats and escalation stop. False when no open alert has that id. */
  acknowledge(alertId: number, by: string): Promise<boolean> {
    return this.run(async () => {
      const entry = [...this.open.entries()].find(([, a]) => a.id === alertId);
      if (!entry) return false;
      const [key, a] = entry;
      if (a.ackedAt !== null) return true;
      const now = this.now();
      await this.o.db.transaction(async (tx) => {
        await tx
          .update(alerts)
          .set({ ackedAt: new Date(now), ackedBy: by, updatedAt: new Date(now) })
          .where(eq(alerts.id, alertId));
        await tx
          .insert(alertEvents)
          .values({ alertId, at: new Date(now), kind: "acknowledged", severity: a.severity, value: a.value, actor: by });
      });
      this.open.set(key, { ...a, ackedAt: now, ackedBy: by });
      this.o.onChange?.({ workerIds: a.workerId !== null ? [a.workerId] : [], enqueued: 0 });
      return true;
    });
  }

  /** Forgets a deleted worker's state (its rows go with it by cascade). */
  forgetWorkers(ids: number[]): void {
    const gone = new Set(ids);
    for (const [k, a] of this.open) if (a.workerId !== null && gone.has(a.workerId)) this.open.delete(k);
    for (const id of ids) {
      this.workers.delete(id);
      this.knownGpus.delete(id);
    }
  }
}

function rowOf(a: OpenAlert, now: number, closing: boolean): typeof alerts.$inferInsert {
  return {
    rule: a.rule,
    subject: a.subject,
    workerId: a.workerId,
    serviceId: a.serviceId,
    gpuUuid: a.gpuUuid,
    gpuIndex: a.gpuIndex,
    state: closing ? "resolved" : a.state,
    stateBeforeNodata: closing ? null : a.stateBeforeNodata,
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    startedAt: new Date(a.startedAt),
    firedAt: a.firedAt !== null ? new Date(a.firedAt) : null,
    resolvedAt: closing ? new Date(now) : null,
    notifiedSeverity: a.notifiedSeverity,
    notifiedAt: a.notifiedAt !== null ? new Date(a.notifiedAt) : null,
    tier: a.tier,
    ackedAt: a.ackedAt !== null ? new Date(a.ackedAt) : null,
    ackedBy: a.ackedBy,
    updatedAt: new Date(now),
  };
}

export function openAlertOf(r: typeof alerts.$inferSelect): OpenAlert {
  const sev = (s: string | null): Severity | null => (s === "critical" ? "critical" : s === "warning" ? "warning" : null);
  const st = (s: string | null) => (s === "pending" || s === "firing" ? s : null);
  return {
    id: r.id,
    rule: r.rule,
    subject: r.subject,
    workerId: r.workerId,
    serviceId: r.serviceId,
    gpuUuid: r.gpuUuid,
    gpuIndex: r.gpuIndex,
    state: r.state === "nodata" ? "nodata" : r.state === "firing" ? "firing" : "pending",
    stateBeforeNodata: st(r.stateBeforeNodata),
    severity: sev(r.severity) ?? "warning",
    value: r.value,
    threshold: r.threshold,
    startedAt: r.startedAt.getTime(),
    firedAt: r.firedAt?.getTime() ?? null,
    notifiedSeverity: sev(r.notifiedSeverity),
    notifiedAt: r.notifiedAt?.getTime() ?? null,
    tier: r.tier,
    ackedAt: r.ackedAt?.getTime() ?? null,
    ackedBy: r.ackedBy,
  };
}
