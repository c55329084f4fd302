// An in-process head over an already loaded database for the history benchmark: the real app, a viewer token, requests without sockets.
import { createApp } from "../src/app.ts";
import { SYSTEM } from "../src/auth/audit.ts";
import { securityFrom } from "../src/auth/security.ts";
import { createToken } from "../src/auth/tokens.ts";
import { parseCommandConfig } from "../src/config.ts";
import type { Database, Engine } from "../src/db/client.ts";
import { HEAD_SETTINGS, type HeadContext } from "../src/head/context.ts";
import { Ingestor } from "../src/ingest/ingest.ts";
import { LatestCache } from "../src/ingest/latest.ts";
import { AgentSessions } from "../src/ingest/sessions.ts";
import { BatchedWriter } from "../src/ingest/writer.ts";
import { log } from "../src/log.ts";
import { retentionOf, startRetentionLoop } from "../src/retention/loop.ts";
import { LiveHub } from "../src/live/hub.ts";

export async function benchHead(database: Database, _engine: Engine) {
  const config = parseCommandConfig("serve", HEAD_SETTINGS, [], {}).config;
  const writer = new BatchedWriter(database.db, { log });
  const latest = new LatestCache();
  await latest.rebuild(database.db);
  const ingestor = new Ingestor(database.db, writer, latest);
  // Timers far off: the benchmark measures queries, not a rollup running beside them.
  const retention = startRetentionLoop({
    database,
    retention: retentionOf(config),
    log,
    rollupEveryMs: 3600_000,
    firstPruneAfterMs: 3600_000,
  });
  const ctx: HeadContext = {
    config,
    database,
    writer,
    latest,
    ingestor,
    security: securityFrom(config),
    sessions: new AgentSessions(),
    retention,
    // Not started: the history benchmark opens no live streams.
    live: new LiveHub(),
    startedAt: new Date(),
  };
  const app = createApp(ctx);
  const token = (await createToken(database.db, SYSTEM, { name: "bench", role: "viewer" })).token;
  return {
    get: (path: string) => app.handle(new Request(`http://vigil.test${path}`, { headers: { authorization: `Bearer ${token}` } })),
    async close() {
      await retention.stop();
      await writer.close();
    },
  };
}
