// What the head's routes and loops share: the database, the ingest path, the latest-state cache and the security settings.
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Ingestor } from "../ingest/ingest.ts";
import type { LatestCache } from "../ingest/latest.ts";
import type { BatchedWriter } from "../ingest/writer.ts";
import type { Security } from "../auth/security.ts";
import type { AgentSessions } from "../ingest/sessions.ts";
import type { RetentionLoop } from "../retention/loop.ts";
import type { LiveHub } from "../live/hub.ts";
import type { AlertEngine } from "../alerts/engine.ts";
import type { DeliveryQueue } from "../alerts/delivery.ts";
import type { ProbeRouter } from "../health/probes.ts";
import type { HealthLoop } from "../health/loop.ts";
import type { Cluster } from "../cluster/cluster.ts";

/** The settings `vigil serve` reads (flags and environment), and so all the head may use. */
export const HEAD_SETTINGS = [
  "listen",
  "dataDir",
  "databaseUrl",
  "publicUrl",
  "trustedProxies",
  "localAgent",
  "interval",
  "workerName",
  "logLevel",
  "adminPassword",
  "sessionIdle",
  "sessionMax",
  "pgliteSharedBuffers",
  "procRoot",
  "sysRoot",
  "nvmlLib",
  "nvidiaSmi",
  "netInclude",
  "netExclude",
  "dockerDir",
  "retentionRaw",
  "retention1m",
  "retention1h",
  "retentionProcesses",
  "processInterval",
  "metricsPublic",
  "outboundAllow",
  "outboundAllowPrivate",
  "uptimeDegradedWeight",
  "statusPublic",
  "probePaths",
  "servicesFile",
  "dbPoolSize",
  "dbStatementTimeout",
  "ingestQueueMax",
  "leaderRetry",
] as const;

export type HeadConfig = Readonly<Pick<Config, (typeof HEAD_SETTINGS)[number]>>;

export interface HeadContext {
  config: HeadConfig;
  database: Database;
  writer: BatchedWriter;
  latest: LatestCache;
  ingestor: Ingestor;
  security: Security;
  /** Agents connected to this head, for commands down their sockets. */
  sessions: AgentSessions;
  /** Probes run on workers by their agents (unit state, worker-side HTTP/TCP, disks, files, logs). */
  probes: ProbeRouter;
  /** Rollups and pruning; routes read the tiers it keeps. */
  retention: RetentionLoop;
  /** Live views: the bus of changes and the SSE streams of open pages. */
  live: LiveHub;
  /** Alert states and transitions; the delivery queue sends what they tell channels. */
  alerts: AlertEngine;
  deliveries: DeliveryQueue;
  /** Service checks, their latest results and status windows. */
  health: HealthLoop;
  /** Loop leadership and, among several heads on one PostgreSQL, the line to the others. */
  cluster: Cluster;
  startedAt: Date;
}
