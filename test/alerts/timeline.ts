// A scripted alert timeline for tests: a controllable clock, one worker, real channels posting to a local HTTP server, a real database.
import { eq } from "drizzle-orm";
import type { Server } from "bun";
import { DeliveryQueue } from "../../src/alerts/delivery.ts";
import { AlertEngine } from "../../src/alerts/engine.ts";
import { BUILTIN_DEFAULTS } from "../../src/alerts/rules.ts";
import type { AlertNotification } from "../../src/alerts/notification.ts";
import type { Database, Engine } from "../../src/db/client.ts";
import { alertSettings, builtinRules, channels, deliveries, silences, thresholds } from "../../src/db/schema/index.ts";
import { upsertWorker } from "../../src/fleet/workers.ts";
import { log } from "../../src/log.ts";
import type { GpuVitals, Sample } from "../../src/protocol/sample.ts";
import { freshDatabase } from "../harness/engines.ts";
import { makeGpu, makeSample } from "../fixtures/samples.ts";

export const T0 = Date.parse("2026-11-23T10:00:00.000Z");

export interface Received {
  hook: string;
  body: AlertNotification;
  headers: Headers;
  /** What the server answered (a scripted failure or 200). */
  status: number;
}

/** One local HTTP server standing in for every webhook; `/<hook>` paths tell channels apart, and a hook can be told to fail. */
export class HookServer {
  readonly received: Received[] = [];
  private failures = new Map<string, number>();
  readonly server: Server<undefined>;

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const hook = new URL(req.url).pathname.slice(1);
        const body = (await req.json()) as AlertNotification;
        const left = this.failures.get(hook) ?? 0;
        const status = left > 0 ? 503 : 200;
        if (left > 0) this.failures.set(hook, left - 1);
        this.received.push({ hook, body, headers: req.headers, status });
        return new Response(status === 200 ? "ok" : "try later", { status });
      },
    });
  }

  url(hook: string): string {
    return `http://127.0.0.1:${this.server.port}/${hook}`;
  }

  failNext(hook: string, times: number): void {
    this.failures.set(hook, times);
  }

  /** Notifications a hook accepted, as "event:severity". */
  told(hook = "a"): string[] {
    return this.received.filter((r) => r.hook === hook && r.status === 200).map((r) => `${r.body.event}:${r.body.severity}`);
  }

  stop(): void {
    this.server.stop(true);
  }
}

export interface TimelineOptions {
  engine?: Engine;
  /** Channels to create: name → { hook path (webhook) or "dashboard", tier, minSeverity }. Default: one webhook "a". */
  channels?: { name: string; hook?: string; tier?: number; minSeverity?: "warning" | "critical" }[];
  settings?: Partial<{ cooldownSeconds: number; repeatSeconds: number; escalationMinutes: number }>;
}

/**
 * Scripted time: `at(s)` moves the clock to T0 + s seconds; `temp(s, °C)` sends a sample with that
 * GPU temperature at that time and lets the engine and the delivery queue finish. Only the
 * temperature threshold exists unless a test adds rules; built-in rules are off unless enabled.
 */
export class Timeline {
  now = T0;
  engine!: AlertEngine;
  queue!: DeliveryQueue;
  workerId!: number;
  seq = 0;
  private last: Partial<GpuVitals> | undefined;

  private constructor(
    readonly database: Database,
    readonly hooks: HookServer,
  ) {}

  static async open(o: TimelineOptions = {}): Promise<Timeline> {
    const database = await freshDatabase(o.engine ?? "postgres");
    const tl = new Timeline(database, new HookServer());
    const db = database.db;
    await db.delete(thresholds);
    for (const b of BUILTIN_DEFAULTS)
      await db
        .insert(builtinRules)
        .values({ kind: b.kind, enabled: false, severity: b.severity, forSeconds: b.forSeconds, params: b.params });
    for (const [key, value] of Object.entries({ cooldownSeconds: 300, repeatSeconds: 0, escalationMinutes: 0, ...o.settings }))
      await db.insert(alertSettings).values({ key, value });
    tl.workerId = await upsertWorker(db, { name: "gpu-07", kind: "remote", hostname: "gpu-07", intervalSeconds: 1 });
    for (const c of o.channels ?? [{ name: "a", hook: "a" }]) {
      await db.insert(channels).values({
        name: c.name,
        kind: c.hook ? "webhook" : "dashboard",
        config: c.hook ? { url: tl.hooks.url(c.hook), secret: "s3cret" } : {},
        tier: c.tier ?? 1,
        minSeverity: c.minSeverity ?? "warning",
      });
    }
    await tl.startEngine();
    return tl;
  }

  /** A fresh engine and queue on the same database: what a head restart leaves. */
  async startEngine(latest?: { workerId: number; sample: Pick<Sample, "gpus"> }[]): Promise<void> {
    const clock = () => this.now;
    this.engine = new AlertEngine({ db: this.database.db, log, now: clock, baseUrl: "https://vigil.example" });
    await this.engine.start({ latest: latest as { workerId: number; sample: Sample }[] | undefined });
    this.queue = new DeliveryQueue({
      db: this.database.db,
      log,
      now: clock,
      policy: { allowPrivate: false, allow: ["127.0.0.0/8"] },
      backoff: () => 1_000,
      maxAttempts: 10,
    });
  }

  async restart(): Promise<void> {
    await this.restartWith(undefined);
  }

  /** A restart whose latest-state cache held these samples (what the head rebuilds from storage). */
  async restartWith(latest: { workerId: number; sample: Pick<Sample, "gpus"> }[] | undefined): Promise<void> {
    await this.engine.stop();
    await this.queue.stop();
    await this.startEngine(latest);
  }

  async rule(r: Partial<typeof thresholds.$inferInsert> & { metric?: string }): Promise<void> {
    await this.database.db.insert(thresholds).values({ metric: "temperature", scope: "global", warning: 70, critical: 85, ...r });
    await this.engine.reload();
  }

  async enableBuiltin(kind: string, over: Partial<typeof builtinRules.$inferInsert> = {}): Promise<void> {
    await this.database.db
      .update(builtinRules)
      .set({ enabled: true, ...over })
      .where(eq(builtinRules.kind, kind));
    await this.engine.reload();
  }

  async silence(o: Partial<typeof silences.$inferInsert> & { fromS: number; toS: number }): Promise<void> {
    await this.database.db.insert(silences).values({
      kind: o.kind ?? "silence",
      workerId: o.workerId ?? null,
      rule: o.rule ?? null,
      gpuUuid: o.gpuUuid ?? null,
      startsAt: new Date(T0 + o.fromS * 1000),
      endsAt: new Date(T0 + o.toS * 1000),
      createdBy: "test",
    });
    await this.engine.reload();
  }

  at(s: number): void {
    this.now = T0 + s * 1000;
  }

  /** A sample at T0 + s whose GPU 0 has the given vitals. */
  async sample(s: number, gpu: Partial<GpuVitals>, more: (x: Sample) => void = () => {}): Promise<void> {
    this.at(s);
    this.last = gpu;
    const x = makeSample(++this.seq, { ts: new Date(this.now), gpus: 1 });
    x.gpus = [makeGpu(0, { utilization: 50, ...gpu })];
    more(x);
    await this.engine.observe(this.workerId, "gpu-07", x);
    await this.settle();
  }

  /** The last sample's GPU vitals again at T0 + s (a worker that keeps reporting), then a tick. */
  async hold(s: number): Promise<void> {
    await this.sample(s, this.last ?? {});
    await this.tick(s);
  }

  temp(s: number, celsius: number): Promise<void> {
    return this.sample(s, { temperature: celsius });
  }

  async tick(s: number): Promise<void> {
    this.at(s);
    await this.engine.tick();
    await this.settle();
  }

  async settle(): Promise<void> {
    await this.engine.idle();
    await this.queue.drain();
  }

  told(hook = "a"): string[] {
    return this.hooks.told(hook);
  }

  async deliveryRows() {
    return this.database.db.select().from(deliveries).orderBy(deliveries.id);
  }

  async close(): Promise<void> {
    await this.engine.stop();
    await this.queue.stop();
    this.hooks.stop();
    await this.database.close();
  }
}
