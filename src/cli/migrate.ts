// `vigil migrate`: apply the embedded SQL migrations and report what was applied.
import { parseCommandConfig } from "../config.ts";
import { setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";

const settings = ["dataDir", "databaseUrl", "logLevel", "pgliteSharedBuffers"] as const;

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply database migrations (serve does this at start too); safe to repeat",
  usage: "vigil migrate [options]",
  settings,
  async run(argv) {
    const { config } = parseCommandConfig("migrate", settings, argv);
    setLogLevel(config.logLevel);
    const [{ withDatabase }, { migrate }] = await Promise.all([import("../db/session.ts"), import("../db/migrate.ts")]);
    await withDatabase(config, "migrate", async (database) => {
      const r = await migrate(database);
      console.log(
        r.applied === 0
          ? `database is up to date (${r.total} migration${r.total === 1 ? "" : "s"}) · ${database.describe}`
          : `applied ${r.applied} of ${r.total} migrations · ${database.describe}`,
      );
    });
    return 0;
  },
};
