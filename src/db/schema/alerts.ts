// Alerting tables: threshold rules, built-in rules, alerts and their events, silences and maintenance windows, channels, the delivery queue.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { workers } from "./fleet.ts";
import { services } from "./health.ts";

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const stampedNow = (name: string) =>
  tstz(name)
    .notNull()
    .default(sql`now()`);

/**
 * A warning / critical pair on one metric. `scope` is `global`, `worker:<id>` or `gpu:<id>:<uuid>`:
 * the most specific row for a subject wins, and the unique (metric, scope) index keeps one per level.
 */
export const thresholds = pgTable(
  "thresholds",
  {
    id: serial("id").primaryKey(),
    metric: text("metric").notNull(),
    scope: text("scope").notNull().default("global"),
    workerId: integer("worker_id").references(() => workers.id, { onDelete: "cascade" }),
    gpuUuid: text("gpu_uuid"),
    /** `above` (fires when the value rises past the levels) or `below`. */
    direction: text("direction").notNull().default("above"),
    warning: real("warning"),
    critical: real("critical"),
    forSeconds: integer("for_seconds").notNull().default(0),
    /** How far back past the level a value must go before the level clears. */
    hysteresis: real("hysteresis").notNull().default(0),
    enabled: boolean("enabled").notNull().default(true),
    updatedAt: stampedNow("updated_at"),
    updatedBy: text("updated_by"),
  },
  (t) => [uniqueIndex("thresholds_metric_scope_key").on(t.metric, t.scope)],
);

/** Settings of the rules that are not thresholds (offline, GPU lost, throttling, ECC, idle allocation). */
export const builtinRules = pgTable("builtin_rules", {
  kind: text("kind").primaryKey(),
  enabled: boolean("enabled").notNull().default(true),
  severity: text("severity").notNull().default("warning"),
  forSeconds: integer("for_seconds").notNull().default(0),
  params: jsonb("params").$type<Record<string, number>>().notNull().default({}),
  updatedAt: stampedNow("updated_at"),
  updatedBy: text("updated_by"),
});

/**
 * One row per occurrence of a rule on a subject. Open rows (pending, firing, nodata) are the
 * engine's state and survive a restart; resolved rows are history. The partial unique index keeps
 * at most one open alert per rule and subject.
 */
export const alerts = pgTable(
  "alerts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** `threshold:<metric>` or `builtin:<kind>`. */
    rule: text("rule").notNull(),
    /** `w<id>`, `w<id>/gpu:<uuid>`, or `svc<id>` for a service's health. */
    subject: text("subject").notNull(),
    /** The worker it is about (for a service: the service's worker, if any). */
    workerId: integer("worker_id").references(() => workers.id, { onDelete: "cascade" }),
    /** The checked service a `health:` alert is about. */
    serviceId: integer("service_id").references(() => services.id, { onDelete: "cascade" }),
    gpuUuid: text("gpu_uuid"),
    gpuIndex: integer("gpu_index"),
    /** pending | firing | nodata | resolved */
    state: text("state").notNull(),
    /** The state before nodata, to go back to when data returns. */
    stateBeforeNodata: text("state_before_nodata"),
    severity: text("severity").notNull(),
    value: real("value"),
    threshold: real("threshold"),
    startedAt: tstz("started_at").notNull(),
    firedAt: tstz("fired_at"),
    resolvedAt: tstz("resolved_at"),
    /** The severity channels were last told (null: not told, e.g. silenced or in cooldown). */
    notifiedSeverity: text("notified_severity"),
    notifiedAt: tstz("notified_at"),
    /** Channel tier reached: 1 until escalation hands it to tier 2, and so on. */
    tier: integer("tier").notNull().default(1),
    ackedAt: tstz("acked_at"),
    ackedBy: text("acked_by"),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("alerts_open_key")
      .on(t.rule, t.subject)
      .where(sql`state <> 'resolved'`),
    index("alerts_worker_idx").on(t.workerId, t.startedAt),
    index("alerts_resolved_idx").on(t.resolvedAt),
  ],
);

/** Every transition of an alert, told or not (`notified` says whether channels got it and why not). */
export const alertEvents = pgTable(
  "alert_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    alertId: bigint("alert_id", { mode: "number" })
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    at: tstz("at").notNull(),
    /** pending | firing | escalated | deescalated | repeat | escalation | nodata | resolved | acknowledged */
    kind: text("kind").notNull(),
    severity: text("severity").notNull(),
    value: real("value"),
    /** Why channels were not told: silenced, maintenance, cooldown, not-told (a recovery of an alert never told). Null when told. */
    suppressed: text("suppressed"),
    notified: boolean("notified").notNull().default(false),
    actor: text("actor"),
  },
  (t) => [index("alert_events_alert_idx").on(t.alertId, t.at)],
);

/**
 * Silences (from now, with an expiry) and maintenance windows (planned, per worker). A null
 * worker matches every worker; a null rule every rule; a null GPU every GPU of the worker.
 */
export const silences = pgTable(
  "silences",
  {
    id: serial("id").primaryKey(),
    /** silence | maintenance */
    kind: text("kind").notNull().default("silence"),
    workerId: integer("worker_id").references(() => workers.id, { onDelete: "cascade" }),
    gpuUuid: text("gpu_uuid"),
    rule: text("rule"),
    startsAt: tstz("starts_at").notNull(),
    endsAt: tstz("ends_at").notNull(),
    reason: text("reason"),
    createdBy: text("created_by").notNull(),
    createdAt: stampedNow("created_at"),
    /** Ended early by hand. */
    cancelledAt: tstz("cancelled_at"),
  },
  (t) => [index("silences_ends_idx").on(t.endsAt)],
);

/** Where notifications go. `config` follows the notifier's own schema; secrets in it never leave the API unmasked. */
export const channels = pgTable(
  "channels",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind").notNull(),
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    enabled: boolean("enabled").notNull().default(true),
    /** warning: everything; critical: critical alerts only (and their recoveries). */
    minSeverity: text("min_severity").notNull().default("warning"),
    /** 1 gets every alert; 2 and up get an alert only after it escalates that far unacknowledged. */
    tier: integer("tier").notNull().default(1),
    createdAt: stampedNow("created_at"),
    updatedAt: stampedNow("updated_at"),
    updatedBy: text("updated_by"),
  },
  (t) => [uniqueIndex("channels_name_key").on(t.name)],
);

/**
 * The durable delivery queue: one row per told event and channel (unique, so a replay after a
 * restart cannot enqueue twice), retried with backoff until delivered or out of attempts.
 */
export const deliveries = pgTable(
  "deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: bigint("event_id", { mode: "number" }).references(() => alertEvents.id, { onDelete: "cascade" }),
    alertId: bigint("alert_id", { mode: "number" }).references(() => alerts.id, { onDelete: "cascade" }),
    channelId: integer("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    /** queued | delivered | failed (out of attempts) */
    status: text("status").notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tstz("next_attempt_at").notNull(),
    lastError: text("last_error"),
    /** The AlertNotification as sent (built once, so a retry sends the same document). */
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: tstz("created_at").notNull(),
    deliveredAt: tstz("delivered_at"),
  },
  (t) => [
    uniqueIndex("deliveries_event_channel_key").on(t.eventId, t.channelId),
    index("deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`status = 'queued'`),
    index("deliveries_alert_idx").on(t.alertId),
  ],
);

/** Alert settings an admin changes at run time (cooldown, repeat, escalation), one JSON value per key. */
export const alertSettings = pgTable("alert_settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: stampedNow("updated_at"),
  updatedBy: text("updated_by"),
});
