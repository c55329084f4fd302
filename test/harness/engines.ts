// Runs a storage test suite twice, on embedded PGlite and on a real PostgreSQL, each with a fresh migrated database.
import { afterAll, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database, type Engine } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { sharedPostgres } from "./postgres.ts";

export const ENGINES: Engine[] = ["pglite", "postgres"];

/** Opens a fresh, migrated database of the given engine; the caller closes it (cleanup also runs afterAll). */
export async function freshDatabase(engine: Engine): Promise<Database> {
  if (engine === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "vigil-test-pglite-"));
    const db = await openDatabase({ dataDir: dir, keepAssets: true });
    await migrate(db);
    const close = db.close.bind(db);
    db.close = async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    };
    return db;
  }
  const pg = await sharedPostgres();
  const url = await pg.createDatabase();
  const db = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 4 });
  await migrate(db);
  return db;
}

/**
 * `describe`s the suite once per engine. `open()` gives a fresh migrated database; every database
 * opened through it is closed after the suite.
 */
export function describeEachEngine(name: string, suite: (engine: Engine, open: () => Promise<Database>) => void): void {
  for (const engine of ENGINES) {
    describe(`${name} [${engine}]`, () => {
      const opened: Database[] = [];
      afterAll(async () => {
        for (const db of opened.splice(0)) await db.close().catch(() => {});
      });
      suite(engine, async () => {
        const db = await freshDatabase(engine);
        opened.push(db);
        return db;
      });
    });
  }
}
