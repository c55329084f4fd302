// Opens the database for one short command (migrate, user, token): takes the data directory's lock for PGlite, always closes.
import { checkDataDir, type Config } from "../config.ts";
import { openDatabase, type Database } from "./client.ts";
import { acquireDataDirLock } from "./lock.ts";

export type DatabaseSettings = Pick<Config, "databaseUrl" | "dataDir" | "pgliteSharedBuffers">;

export async function withDatabase<T>(config: DatabaseSettings, command: string, fn: (database: Database) => Promise<T>): Promise<T> {
  let release = () => {};
  if (!config.databaseUrl) {
    checkDataDir(config.dataDir);
    release = acquireDataDirLock(config.dataDir, command);
  }
  try {
    const database = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      pgliteSharedBuffers: config.pgliteSharedBuffers,
    });
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  } finally {
    release();
  }
}
