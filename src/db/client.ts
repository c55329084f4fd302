// Opens the database: embedded PGlite under the data directory by default, an external PostgreSQL through `pg` when DATABASE_URL is set.
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import { join } from "node:path";
import { existsSync, mkdirSync } from "node:fs";
import * as schema from "./schema/index.ts";
import { loadPgliteAssets } from "./pglite-assets.ts";
import { redactUrl } from "../config.ts";
import { log } from "../log.ts";
import { DatabaseError } from "./errors.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Engine = "pglite" | "postgres";

export interface Database {
  engine: Engine;
  db: Db;
  /** Plain SQL with $1 parameters; rows as objects. For the few queries drizzle cannot say well. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` holding a PostgreSQL advisory lock (no-op on PGlite, which has one user). */
  withAdvisoryLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * A connection of its own, outside the pool, for what must live on one session: the advisory
   * locks of loop leadership and LISTEN. Only an external PostgreSQL has one (PGlite has one user).
   */
  dedicatedClient?(purpose: string): Promise<pg.Client>;
  /** True once close() was called (whatever reconnects on its own stops then). */
  isClosed(): boolean;
  /** Where the data lives, safe to print (password hidden). */
  describe: string;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** shared_buffers for PGlite: it decides most of PGlite's memory (see NOTES.md). */
  pgliteSharedBuffers?: string;
  /** Keep PGlite's compiled wasm for later opens (tests); the head opens once and frees it. */
  keepAssets?: boolean;
  /** Max connections to an external server. */
  poolSize?: number;
  /** PostgreSQL's statement_timeout for the pool's sessions (0 or absent: the server's own). */
  statementTimeoutMs?: number;
  startTimeoutMs?: number;
  /** PGlite: how often to checkpoint (default 5 min). */
  checkpointEveryMs?: number;
}

export { DatabaseError };

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseError(`${what} did not finish within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function openPglite(opts: OpenOptions): Promise<Database> {
  const dir = join(opts.dataDir, "pglite");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fresh = !existsSync(join(dir, "PG_VERSION"));
  const start = async () => {
    const assets = await loadPgliteAssets(opts.keepAssets);
    // PGlite can spin instead of failing when its wasm memory cannot be set up, so start-up is bounded.
    return withTimeout(
      PGlite.create(dir, {
        ...assets,
        startParams: [
          ...PGlite.defaultStartParams,
          "-c",
          `shared_buffers=${opts.pgliteSharedBuffers ?? "16MB"}`,
          // Recycled WAL is kept up to max_wal_size: 256 MB instead of 1 GB on an appliance's disk.
          "-c",
          "max_wal_size=256MB",
          "-c",
          "min_wal_size=32MB",
        ],
      }),
      opts.startTimeoutMs ?? 120_000,
      `starting the embedded database in ${dir}`,
    ).catch((err: unknown) => {
      if (err instanceof DatabaseError) throw err;
      throw new DatabaseError(`cannot open the embedded database in ${dir}: ${(err as Error).message}`, { cause: err });
    });
  };
  const started = performance.now();
  if (fresh) log.info("initialising the embedded database (first start only; takes a few seconds)", { dir });
  let client = await start();
  if (fresh && !opts.keepAssets) {
    // The first start runs initdb in the same PGlite instance, which keeps about 10 MiB of its
    // memory for life (measured: 205 -> 195 MiB idle RSS); reopening the settled directory sheds it.
    await client.close();
    Bun.gc(true);
    client = await start();
  }
  log.debug("embedded database started", { dir, fresh, ms: Math.round(performance.now() - started) });
  // PGlite runs PostgreSQL in single-user mode: there is no checkpointer process, so without this
  // WAL is never recycled and grows with every write (measured: 15 GB after loading 35 M rows).
  const checkpoints = setInterval(() => {
    if (client.closed) return;
    client.query("checkpoint").catch((err: unknown) => log.warn("checkpoint of the embedded database failed", { error: err }));
  }, opts.checkpointEveryMs ?? 300_000);
  checkpoints.unref();
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    engine: "pglite",
    db,
    describe: `embedded PGlite in ${dir}`,
    async query<T>(text: string, params?: unknown[]) {
      const r = await client.query<T>(text, params);
      return r.rows;
    },
    async withAdvisoryLock(_key, fn) {
      return fn(db);
    },
    isClosed: () => client.closed,
    async close() {
      clearInterval(checkpoints);
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: "vigil",
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", (err) => log.warn("database connection lost", { error: err }));
  try {
    const c = await pool.connect();
    try {
      const r = await c.query<{ v: number }>("select current_setting('server_version_num')::int as v");
      const v = r.rows[0]?.v ?? 0;
      if (v < 150000) throw new DatabaseError(`PostgreSQL ${Math.floor(v / 10000)} is too old; Vigil needs 15 or newer`);
    } finally {
      c.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(`cannot connect to ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  // Closed with the pool: a head (or a test) closing its database leaves no session behind holding locks or listening.
  const dedicated = new Set<pg.Client>();
  let closed = false;
  return {
    engine: "postgres",
    db,
    describe: redactUrl(url),
    async query<T>(text: string, params?: unknown[]) {
      const r = await pool.query(text, params);
      return r.rows as T[];
    },
    async withAdvisoryLock(key, fn) {
      const c = await pool.connect();
      try {
        await c.query("select pg_advisory_lock($1)", [key]);
        try {
          return await fn(drizzlePg(c, { schema }) as unknown as Db);
        } finally {
          await c.query("select pg_advisory_unlock($1)", [key]);
        }
      } finally {
        c.release();
      }
    },
    isClosed: () => closed,
    async dedicatedClient(purpose: string) {
      if (closed) throw new DatabaseError(`the database is closed; no ${purpose} connection`);
      // keepAlive: a head whose network to the database dies must lose its locks, not hold them on a half-open socket.
      const c = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        application_name: `vigil ${purpose}`,
      });
      try {
        await c.connect();
      } catch (err) {
        await c.end().catch(() => {});
        throw new DatabaseError(`cannot open the ${purpose} connection to ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
      }
      if (closed) {
        await c.end().catch(() => {});
        throw new DatabaseError(`the database is closed; no ${purpose} connection`);
      }
      dedicated.add(c);
      c.on("end", () => dedicated.delete(c));
      return c;
    },
    async close() {
      closed = true;
      await Promise.all([...dedicated].map((c) => c.end().catch(() => {})));
      await pool.end();
    },
  };
}
