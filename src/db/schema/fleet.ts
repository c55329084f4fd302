// Tables of what the fleet is made of: workers (machines running an agent) and their GPUs.
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, real, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const workers = pgTable(
  "workers",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    /** `local` for the head's in-process agent, `remote` for enrolled agents. */
    kind: text("kind").notNull().default("remote"),
    hostname: text("hostname"),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    /** Highest sample sequence number committed for this worker's agent. */
    lastSeq: bigint("last_seq", { mode: "number" }),
    /** Sampling interval the agent reported, in seconds; decides when it counts as offline. */
    intervalSeconds: integer("interval_seconds").notNull().default(1),
    info: jsonb("info").$type<Record<string, unknown>>().notNull().default({}),
    /** sha256 of the one-time enrollment token; cleared when an agent exchanges it for a secret. */
    enrollmentHash: text("enrollment_hash"),
    enrollmentExpiresAt: timestamp("enrollment_expires_at", { withTimezone: true }),
    /** sha256 of the agent's own secret, given at enrollment. */
    secretHash: text("secret_hash"),
    enrolledAt: timestamp("enrolled_at", { withTimezone: true }),
    /** /etc/machine-id (or host name) of the machine that enrolled, for the audit log. */
    machineId: text("machine_id"),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    agentVersion: text("agent_version"),
  },
  (t) => [
    uniqueIndex("workers_name_key").on(t.name),
    uniqueIndex("workers_secret_key").on(t.secretHash),
    uniqueIndex("workers_enrollment_key").on(t.enrollmentHash),
  ],
);

export const gpus = pgTable(
  "gpus",
  {
    id: serial("id").primaryKey(),
    workerId: integer("worker_id")
      .notNull()
      .references(() => workers.id, { onDelete: "cascade" }),
    index: integer("index").notNull(),
    uuid: text("uuid").notNull(),
    name: text("name").notNull(),
    memoryTotalMiB: integer("memory_total_mib"),
    driverVersion: text("driver_version"),
    cudaVersion: text("cuda_version"),
    pciBusId: text("pci_bus_id"),
    serial: text("serial"),
    computeCapability: text("compute_capability"),
    migMode: boolean("mig_mode"),
    powerLimitDefaultW: real("power_limit_default_w"),
    maxSmClockMHz: integer("max_sm_clock_mhz"),
    maxMemoryClockMHz: integer("max_memory_clock_mhz"),
    maxGraphicsClockMHz: integer("max_graphics_clock_mhz"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  },
  // The unique (worker, uuid) index also serves "GPUs of this worker" lookups.
  (t) => [uniqueIndex("gpus_worker_uuid_key").on(t.workerId, t.uuid)],
);

/** Every restart asked of an agent: who, when, why, and each state it passed through. */
export const restarts = pgTable(
  "restarts",
  {
    id: serial("id").primaryKey(),
    workerId: integer("worker_id")
      .notNull()
      .references(() => workers.id, { onDelete: "cascade" }),
    service: text("service").notNull(),
    reason: text("reason"),
    force: boolean("force").notNull().default(false),
    requestedBy: text("requested_by").notNull(),
    requestedAt: timestamp("requested_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** The latest state: initiated, refused, waiting, stopping, restarting, completed, failed. */
    state: text("state").notNull().default("initiated"),
    message: text("message"),
    updatedAt: timestamp("updated_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** Every state with its time, in order. */
    events: jsonb("events").$type<{ state: string; at: string; message?: string }[]>().notNull().default([]),
  },
  (t) => [index("restarts_worker_idx").on(t.workerId, t.requestedAt)],
);
