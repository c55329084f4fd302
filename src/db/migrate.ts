// Applies the embedded SQL migrations through drizzle's migrator, idempotently, one head at a time.
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import { JOURNAL, MIGRATION_SQL } from "../../migrations/index.ts";
import type { Database, Db } from "./client.ts";

/** Advisory lock key shared by every head so two never migrate at once ("vigil" in ASCII). */
const MIGRATION_LOCK = 0x76696769;

/** Builds what drizzle's readMigrationFiles would build, from the SQL embedded at compile time. */
export function embeddedMigrations(): MigrationMeta[] {
  return JOURNAL.entries.map((entry) => {
    const text = MIGRATION_SQL[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is in the journal but not in migrations/index.ts`);
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash("sha256").update(text).digest("hex"),
    };
  });
}

export interface MigrationResult {
  applied: number;
  total: number;
}

/** Migrations recorded as applied in this database (0 before the first). */
export async function appliedCount(db: Db): Promise<number> {
  // Both drivers answer execute() with a result carrying `rows`.
  const count = async (q: ReturnType<typeof sql>) =>
    Number(((await db.execute(q)) as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0);
  const exists = await count(
    sql`select count(*)::int as n from information_schema.tables where table_schema = 'drizzle' and table_name = '__drizzle_migrations'`,
  );
  return exists ? count(sql`select count(*)::int as n from drizzle.__drizzle_migrations`) : 0;
}

export async function migrate(database: Database): Promise<MigrationResult> {
  const migrations = embeddedMigrations();
  return database.withAdvisoryLock(MIGRATION_LOCK, async (db) => {
    const before = await appliedCount(db);
    // drizzle keeps these internal; the public migrate() wants a folder, which a compiled binary lacks.
    const inner = db as unknown as { dialect: PgDialect; session: PgSession };
    await inner.dialect.migrate(migrations, inner.session, { migrationsFolder: "(embedded)" });
    const after = await appliedCount(db);
    return { applied: after - before, total: migrations.length };
  });
}
