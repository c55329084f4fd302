// An in-process head over an already loaded database for the history benchmark: the real app, a viewer token, requests without sockets.
import { createApp } from "../src/app.ts";
import { SYSTEM } from "../src/auth/audit.ts";
import { createToken } from "../src/auth/tokens.ts";
import { parseCommandConfig } from "../src/config.ts";
import type { Database, Engine } from "../src/db/client.ts";
import { HEAD_SETTINGS } from "../src/head/context.ts";
import { assembleHead } from "../src/head/assemble.ts";
import { log } from "../src/log.ts";

export async function benchHead(database: Database, _engine: Engine) {
  const config = parseCommandConfig("serve", HEAD_SETTINGS, [], {}).config;
  // Retention timers far off and no live ticker: the benchmark measures queries, nothing running beside them.
  const ctx = await assembleHead({ config, database, log, startLive: false, rollupEveryMs: 3600_000, firstPruneAfterMs: 3600_000 });
  const { writer, retention } = ctx;
  const app = createApp(ctx);
  const token = (await createToken(database.db, SYSTEM, { name: "bench", role: "viewer" })).token;
  return {
    get: (path: string) => app.handle(new Request(`http://vigil.test${path}`, { headers: { authorization: `Bearer ${token}` } })),
    async close() {
      await ctx.health.stop();
      await ctx.alerts.stop();
      await ctx.deliveries.stop();
      await retention.stop();
      await writer.close();
    },
  };
}
