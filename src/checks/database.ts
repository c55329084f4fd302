// The database check: a `select 1` round trip, the schema's migrations against this build's journal, and the connection pool where the driver has one.
import { Type, type Static } from "@sinclair/typebox";
import pg from "pg";
import { JOURNAL } from "../../migrations/index.ts";
import type { Database } from "../db/client.ts";
import type { Checker, CheckContext, CheckOutcome, HealthStatus } from "./checker.ts";
import { byLatency } from "./checker.ts";
import { failure, neverThrows, roundMs, withDeadline, worst } from "./outcome.ts";

export const databaseSchema = Type.Object(
  {
    maxWaiting: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 0,
        description:
          "External PostgreSQL only: degraded when more than this many queries wait for a pooled connection (the pool is too small or a query holds its connection too long). Default 0.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type DatabaseConfig = Static<typeof databaseSchema>;

export interface PoolUse {
  /** Connections open. */
  total: number;
  idle: number;
  inUse: number;
  /** Queries waiting for a connection. */
  waiting: number;
  max: number | null;
}

/** The pool's counters when the driver is node-postgres' Pool; null for PGlite, which is one connection in the process. */
export function poolUse(client: unknown): PoolUse | null {
  if (!(client instanceof pg.Pool)) return null;
  const max = (client as unknown as { options?: { max?: number } }).options?.max;
  return {
    total: client.totalCount,
    idle: client.idleCount,
    inUse: client.totalCount - client.idleCount,
    waiting: client.waitingCount,
    max: typeof max === "number" ? max : null,
  };
}

/** Migrations applied against those this build knows: behind is down (the code expects tables that are not there). */
export function migrationState(applied: number, expected: number): { status: HealthStatus; message: string } {
  if (applied < expected) {
    const behind = expected - applied;
    return {
      status: "down",
      message: `schema is ${behind} migration${behind === 1 ? "" : "s"} behind this Vigil (${applied} of ${expected} applied): run vigil migrate`,
    };
  }
  if (applied > expected)
    return {
      status: "degraded",
      message: `schema has ${applied} migrations, this Vigil knows ${expected}: a newer version migrated it; upgrade this head`,
    };
  return { status: "healthy", message: `${applied}/${expected} migrations` };
}

/** As `vigil migrate` counts them: rows of drizzle's journal table, 0 before the first migration. */
async function appliedMigrations(database: Database): Promise<number> {
  const [exists] = await database.query<{ n: number }>(
    "select count(*)::int as n from information_schema.tables where table_schema = 'drizzle' and table_name = '__drizzle_migrations'",
  );
  if (!exists?.n) return 0;
  const [row] = await database.query<{ n: number }>("select count(*)::int as n from drizzle.__drizzle_migrations");
  return Number(row?.n ?? 0);
}

async function runDatabase(config: DatabaseConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const database = ctx.head.database;
  const where = `database (${database.describe})`;
  const details: Record<string, unknown> = { engine: database.engine, where: database.describe };
  let selectMs: number;
  let applied: number;
  try {
    ({ selectMs, applied } = await withDeadline(ctx, async () => {
      const started = performance.now();
      await database.query("select 1");
      const selectMs = performance.now() - started;
      return { selectMs, applied: await appliedMigrations(database) };
    }));
  } catch (err) {
    return failure(where, err, details);
  }
  const latencyMs = roundMs(selectMs);
  const expected = JOURNAL.entries.length;
  const migrations = migrationState(applied, expected);
  details.selectMs = latencyMs;
  details.migrations = { applied, expected };

  const parts: { status: HealthStatus; text: string }[] = [
    { status: byLatency(latencyMs, ctx), text: `select 1 in ${latencyMs} ms` },
    { status: migrations.status, text: migrations.message },
  ];
  if (byLatency(latencyMs, ctx) === "degraded") parts[0]!.text += `, slower than ${ctx.degradedLatencyMs} ms`;
  const pool = poolUse((database.db as unknown as { $client?: unknown }).$client);
  if (pool) {
    details.pool = pool;
    const busy = pool.waiting > (config.maxWaiting ?? 0);
    parts.push({
      status: busy ? "degraded" : "healthy",
      text: `pool ${pool.inUse}/${pool.max ?? "?"} in use${pool.waiting ? `, ${pool.waiting} waiting` : ""}`,
    });
  } else details.pool = "n/a (embedded PGlite: one connection inside the head)";

  const status = worst(...parts.map((p) => p.status));
  // The worst part first: it is what the one-line status must say.
  const ordered = [...parts.filter((p) => p.status === status), ...parts.filter((p) => p.status !== status)];
  return { status, latencyMs, message: ordered.map((p) => p.text).join("; "), details };
}

export const database: Checker<typeof databaseSchema> = {
  kind: "database",
  label: "Vigil's database",
  schema: databaseSchema,
  needsWorker: false,
  run: (config, ctx) => neverThrows("database", () => runDatabase(config, ctx)),
};
