import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { JOURNAL } from "../../migrations/index.ts";
import { checkContext } from "../../test/checks/harness.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import type { Database } from "../db/client.ts";
import type { HeadContext } from "../head/context.ts";
import { database, migrationState, poolUse } from "./database.ts";

let head: TestHead;
beforeAll(async () => {
  head = await startTestHead("pglite");
}, 60_000);
afterAll(() => head.close());

/** The head with its database's queries made slower, or never answered. */
function withQueries(query: Database["query"]): HeadContext {
  return { ...head.ctx, database: { ...head.ctx.database, query } };
}

describe("database check on a real embedded database", () => {
  test("healthy: select 1 answers, every migration applied, PGlite has no pool", async () => {
    const o = await database.run({}, checkContext({ head: head.ctx, degradedLatencyMs: 1_000 }));
    const n = JOURNAL.entries.length;
    expect(o.status).toBe("healthy");
    expect(o.message).toMatch(new RegExp(`^select 1 in [\\d.]+ ms; ${n}/${n} migrations$`));
    expect(o.details).toMatchObject({
      engine: "pglite",
      migrations: { applied: n, expected: n },
      pool: "n/a (embedded PGlite: one connection inside the head)",
    });
    expect(o.latencyMs).toBeGreaterThan(0);
  });

  test("degraded: the round trip is slower than degradedLatencyMs", async () => {
    const real = head.ctx.database;
    const slow = withQueries(async (text, params) => {
      if (text === "select 1") await Bun.sleep(40);
      return real.query(text, params);
    });
    const o = await database.run({}, checkContext({ head: slow, degradedLatencyMs: 10 }));
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(/^select 1 in [\d.]+ ms, slower than 10 ms; /);
  });

  test("down: the schema is behind this build (run vigil migrate)", async () => {
    const db = head.ctx.database;
    const [last] = await db.query<{ id: number; hash: string; created_at: string }>(
      "delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning id, hash, created_at",
    );
    try {
      const o = await database.run({}, checkContext({ head: head.ctx }));
      const n = JOURNAL.entries.length;
      expect(o.status).toBe("down");
      expect(o.message).toStartWith(`schema is 1 migration behind this Vigil (${n - 1} of ${n} applied): run vigil migrate; select 1 in`);
    } finally {
      await db.query("insert into drizzle.__drizzle_migrations (id, hash, created_at) values ($1, $2, $3)", [
        last!.id,
        last!.hash,
        last!.created_at,
      ]);
    }
  });

  test("down: no answer within the timeout, or the query fails", async () => {
    const silent = withQueries(() => new Promise(() => {}));
    const o = await database.run({}, checkContext({ head: silent, timeoutMs: 100 }));
    expect(o).toMatchObject({
      status: "down",
      latencyMs: null,
      message: `database (${head.ctx.database.describe}): no answer within 100 ms`,
    });
    const broken = withQueries(async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" });
    });
    const b = await database.run({}, checkContext({ head: broken }));
    expect(b.message).toBe(`database (${head.ctx.database.describe}): connection refused`);
  });

  test("pool use where node-postgres has a pool: degraded while queries wait for a connection", async () => {
    const pool = new pg.Pool({ max: 3 });
    try {
      expect(poolUse(pool)).toEqual({ total: 0, idle: 0, inUse: 0, waiting: 0, max: 3 });
      expect(poolUse({ query() {} })).toBeNull();
      // The counters of a pool under load: 3 busy connections and 2 queries queued behind them.
      Object.defineProperties(pool, { totalCount: { value: 3 }, idleCount: { value: 0 }, waitingCount: { value: 2 } });
      const busy: HeadContext = { ...head.ctx, database: { ...head.ctx.database, db: { $client: pool } as never } };
      const o = await database.run({}, checkContext({ head: busy }));
      expect(o.status).toBe("degraded");
      expect(o.message).toStartWith("pool 3/3 in use, 2 waiting; select 1 in");
      expect(o.details.pool).toEqual({ total: 3, idle: 0, inUse: 3, waiting: 2, max: 3 });
      expect((await database.run({ maxWaiting: 5 }, checkContext({ head: busy }))).status).toBe("healthy");
    } finally {
      await pool.end();
    }
  });

  test("migrationState", () => {
    expect(migrationState(6, 6)).toEqual({ status: "healthy", message: "6/6 migrations" });
    expect(migrationState(0, 6).status).toBe("down");
    expect(migrationState(7, 6)).toEqual({
      status: "degraded",
      message: "schema has 7 migrations, this Vigil knows 6: a newer version migrated it; upgrade this head",
    });
  });
});
