// Tables of who may do what: users, their browser sessions, API tokens, and the append-only audit log.
import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const users = pgTable(
  "users",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    /** `admin` (changes, restarts, overrides) or `viewer` (reads). */
    role: text("role").notNull(),
    /** Bun.password (argon2id) hash. */
    passwordHash: text("password_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    passwordChangedAt: timestamp("password_changed_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
  },
  // Unique on a digest: names are free text up to 64 KiB, beyond what a btree entry can hold.
  (t) => [uniqueIndex("users_name_key").on(sql`md5(${t.name})`)],
);

export const sessions = pgTable(
  "sessions",
  {
    /** sha256 of the cookie's secret: a stolen database does not hold live cookies. */
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** Absolute end, whatever the activity. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role").notNull(),
    /** sha256 of the token: tokens carry 256 random bits, so a fast hash is enough and lookups stay O(1). */
    tokenHash: text("token_hash").notNull(),
    /** The first characters, shown in lists so people can tell tokens apart. */
    prefix: text("prefix").notNull(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    lastUsedIp: text("last_used_ip"),
  },
  (t) => [uniqueIndex("api_tokens_hash_key").on(t.tokenHash)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ts: timestamp("ts", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** Who: `user:NAME`, `token:NAME`, `cli:OSUSER`, `system`, or what a failed login claimed. */
    actor: text("actor").notNull(),
    userId: integer("user_id"),
    /** What: `login.success`, `user.add`, `token.revoke`, ... */
    action: text("action").notNull(),
    /** To what: the user, token, worker or rule acted on. */
    target: text("target"),
    /** From where: the client address (after trusted proxies), or `cli`. */
    ip: text("ip"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("audit_log_ts_idx").on(t.ts)],
);
