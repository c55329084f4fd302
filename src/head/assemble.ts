// Builds the head's shared parts (cache, writer, ingest, security, retention loop, live hub) in one place: the head, the tests and the benchmarks.
import type { LimitPolicy } from "../auth/ratelimit.ts";
import { securityFrom } from "../auth/security.ts";
import type { Database } from "../db/client.ts";
import { Ingestor } from "../ingest/ingest.ts";
import { LatestCache } from "../ingest/latest.ts";
import { AgentSessions } from "../ingest/sessions.ts";
import { BatchedWriter } from "../ingest/writer.ts";
import { LiveHub, type HubOptions } from "../live/hub.ts";
import type { Logger } from "../log.ts";
import { retentionOf, startRetentionLoop } from "../retention/loop.ts";
import { AlertEngine } from "../alerts/engine.ts";
import { DeliveryQueue } from "../alerts/delivery.ts";
import { outboundPolicy } from "../net/outbound.ts";
import { ProbeRouter } from "../health/probes.ts";
import { HealthLoop } from "../health/loop.ts";
import type { HeadConfig, HeadContext } from "./context.ts";
import { clusterLinkFor, joinCluster, type Cluster } from "../cluster/cluster.ts";
import type { LoopName } from "../cluster/leader.ts";
import { PgBus } from "../live/pg-bus.ts";

export interface AssembleOptions {
  config: HeadConfig;
  database: Database;
  log: Logger;
  /** Writer flush interval (tests use a short one). */
  flushIntervalMs?: number;
  limits?: LimitPolicy;
  live?: HubOptions;
  /** Start the live hub's ticker now (the benchmarks that open no stream leave it stopped). */
  startLive?: boolean;
  /** Timers of the retention loop; tests and benchmarks push them far off and run it themselves. */
  rollupEveryMs?: number;
  firstPruneAfterMs?: number;
  /** Alert engine tick and delivery poll (0: not started; tests tick and drain themselves). */
  alertTickMs?: number;
  deliveryPollMs?: number;
  /** The alert engine's and delivery queue's clock (timeline tests script it). */
  clock?: () => number;
  /** Check services on their timers (tests leave it off and call ctx.health.checkNow). */
  scheduleHealth?: boolean;
  /** Several heads on one PostgreSQL: how often a standby head tries to take a loop over (default 1 s). */
  leaderRetryMs?: number;
}

/**
 * The context every route and loop shares, with the latest-state cache rebuilt from storage. The
 * caller owns shutdown, in this order: live.stop(), cluster.stop(), alerts.stop(), deliveries.stop(),
 * retention.stop(), writer.close(), then the database (which also closes the cluster's connections).
 */
export async function assembleHead(o: AssembleOptions): Promise<HeadContext & { restored: number }> {
  const { config, database, log } = o;
  const latest = new LatestCache();
  const restored = await latest.rebuild(database.db);
  const writer = new BatchedWriter(database.db, {
    log: log.child({ component: "writer" }),
    flushIntervalMs: o.flushIntervalMs,
    busyAt: config.ingestQueueMax,
  });
  const ingestor = new Ingestor(database.db, writer, latest, { processIntervalSeconds: config.processInterval });
  // Set once the context exists; the loops ask it whether this head runs them now.
  let leads: (loop: LoopName) => boolean = () => false;
  const retention = startRetentionLoop({
    database,
    leads: () => leads("retention"),
    retention: retentionOf(config),
    log: log.child({ component: "retention" }),
    rollupEveryMs: o.rollupEveryMs,
    firstPruneAfterMs: o.firstPruneAfterMs,
  });
  // Among several heads on one PostgreSQL, live events cross between them over this link.
  const link = clusterLinkFor(database, log.child({ component: "cluster" }));
  const live = new LiveHub({ ...o.live, bus: o.live?.bus ?? (link ? new PgBus(link) : undefined) });
  const sessions = new AgentSessions();
  const policy = outboundPolicy(config.outboundAllowPrivate, config.outboundAllow);
  const deliveries = new DeliveryQueue({
    db: database.db,
    log: log.child({ component: "deliveries" }),
    policy,
    now: o.clock,
    onChange: () => live.bus.publish({ topic: "alerts", workerIds: [] }),
    leads: () => leads("deliveries"),
    lockRows: database.engine === "postgres",
  });
  const alerts = new AlertEngine({
    db: database.db,
    log: log.child({ component: "alerts" }),
    now: o.clock,
    baseUrl: config.publicUrl ?? "",
    onChange: ({ workerIds, enqueued }) => {
      live.bus.publish({ topic: "alerts", workerIds });
      if (enqueued > 0) deliveries.wake();
    },
  });
  if ((o.deliveryPollMs ?? 1_000) > 0) deliveries.start(o.deliveryPollMs ?? 1_000);
  // Only a worker's newest sample is evaluated: replayed backlog is history, not the present.
  ingestor.onSample(({ workerId, sample }) => {
    const entry = latest.get(workerId);
    if (entry?.sample === sample && leads("alerts")) void alerts.observe(workerId, entry.workerName, sample);
  });
  const ctx: HeadContext & { restored: number } = {
    config,
    database,
    writer,
    latest,
    ingestor,
    security: securityFrom(config, o.limits),
    sessions,
    probes: new ProbeRouter(sessions),
    retention,
    live,
    alerts,
    deliveries,
    health: undefined as unknown as HealthLoop,
    cluster: undefined as unknown as Cluster,
    startedAt: new Date(),
    restored,
  };
  // The loop reads the context (probes, alerts, live bus), so it is made once the context is.
  ctx.health = new HealthLoop({ head: ctx, log: log.child({ component: "health" }), policy, now: o.clock });
  // Which loops this head runs: all of them on PGlite; among several heads, those whose lock it holds.
  ctx.cluster = await joinCluster(ctx, {
    link,
    log,
    alertTickMs: o.alertTickMs ?? 1_000,
    scheduleHealth: o.scheduleHealth ?? false,
    leaderRetryMs: o.leaderRetryMs ?? config.leaderRetry * 1000,
  });
  leads = (loop) => ctx.cluster.leadership.leads(loop);
  if (o.startLive !== false) ctx.live.start(ctx);
  return ctx;
}
