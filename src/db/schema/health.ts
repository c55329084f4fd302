// Service health tables: the services checked, every check result, uptime windows, and pre-flight overrides.
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

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const stampedNow = (name: string) =>
  tstz(name)
    .notNull()
    .default(sql`now()`);

/** A service Vigil checks: what kind of check, its settings (the checker's own schema), how often, and whether pre-flight needs it. */
export const services = pgTable(
  "services",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    /** A checker kind from src/checks/registry.ts (CHECK_KINDS). */
    kind: text("kind").notNull(),
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    /** The worker it runs on or is checked from (agent, unit and worker-side probes); null for head-side checks. */
    workerId: integer("worker_id").references(() => workers.id, { onDelete: "cascade" }),
    intervalSeconds: integer("interval_seconds").notNull().default(30),
    timeoutSeconds: integer("timeout_seconds").notNull().default(10),
    /** Slower than this answers "degraded"; null: latency never degrades. */
    degradedLatencyMs: integer("degraded_latency_ms"),
    /** Pre-flight (and so /api/v1/ready) fails while a critical service is not healthy. */
    critical: boolean("critical").notNull().default(false),
    /** A non-healthy state reaches external channels only after lasting this long (the dashboard at once). */
    escalationSeconds: integer("escalation_seconds").notNull().default(300),
    /** Files that must exist for pre-flight, on the head or (with a worker) on that worker. */
    requiredFiles: jsonb("required_files").$type<string[]>().notNull().default([]),
    /** The channels its alerts go to (ids); empty: every channel, as for other alerts. */
    channelIds: jsonb("channel_ids").$type<number[]>().notNull().default([]),
    /** Where the "view log" action reads: `unit:NAME` (journald on the service's worker) or an absolute file path; null: the unit of a unit check. */
    logSource: text("log_source"),
    enabled: boolean("enabled").notNull().default(true),
    /** ui (the page or the API) or file (VIGIL_SERVICES_FILE, re-read at start). */
    source: text("source").notNull().default("ui"),
    createdAt: stampedNow("created_at"),
    updatedAt: stampedNow("updated_at"),
    updatedBy: text("updated_by"),
  },
  (t) => [uniqueIndex("services_name_key").on(t.name)],
);

/** Every check, immutable. (service, at) answers "latest per service" and "recent checks" by index. */
export const checkResults = pgTable(
  "check_results",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    serviceId: integer("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    at: tstz("at").notNull(),
    /** healthy | degraded | down */
    status: text("status").notNull(),
    latencyMs: real("latency_ms"),
    message: text("message").notNull().default(""),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("check_results_service_at_idx").on(t.serviceId, t.at)],
);

/** Runs of one status: a window opens when the status changes and closes at the next change (open: ended_at null). */
export const uptimeWindows = pgTable(
  "uptime_windows",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    serviceId: integer("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    status: text("status").notNull(),
    startedAt: tstz("started_at").notNull(),
    endedAt: tstz("ended_at"),
    /** The first check of the window: what went wrong, for the incident list. */
    message: text("message").notNull().default(""),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    firstResultId: bigint("first_result_id", { mode: "number" }),
  },
  (t) => [
    index("uptime_windows_service_idx").on(t.serviceId, t.startedAt),
    uniqueIndex("uptime_windows_open_key")
      .on(t.serviceId)
      .where(sql`ended_at is null`),
  ],
);

/** An admin's "go ahead anyway" for a failing pre-flight check: who, why, until when. */
export const preflightOverrides = pgTable(
  "preflight_overrides",
  {
    id: serial("id").primaryKey(),
    /** The checklist item's name, e.g. `service:inference-api` or `workers-online`. */
    check: text("check").notNull(),
    reason: text("reason").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: stampedNow("created_at"),
    expiresAt: tstz("expires_at").notNull(),
    cancelledAt: tstz("cancelled_at"),
  },
  (t) => [index("preflight_overrides_check_idx").on(t.check, t.expiresAt)],
);
