// GET /api/v1/ready with the head's PostgreSQL stopped: 503 naming the database, never a 500.
import { afterAll, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { parseCommandConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { assembleHead } from "../../src/head/assemble.ts";
import { HEAD_SETTINGS } from "../../src/head/context.ts";
import { peerAddress } from "../../src/auth/peer.ts";
import { log } from "../../src/log.ts";
import { startPostgres, type TestPostgres } from "../harness/postgres.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

// A server of its own (not the shared one), since the test stops it; an external TEST_DATABASE_URL cannot be stopped.
test.skipIf(!!process.env.TEST_DATABASE_URL)(
  "the database going away: 503 with failing [database], where the names were the checklist's",
  async () => {
    const server: TestPostgres = await startPostgres();
    cleanups.push(() => server.stop());
    const database = await openDatabase({ databaseUrl: await server.createDatabase("ready"), dataDir: "/nonexistent", poolSize: 2 });
    await migrate(database);
    const config = parseCommandConfig("serve", HEAD_SETTINGS, [], {}).config;
    const ctx = await assembleHead({ config, database, log, flushIntervalMs: 10, rollupEveryMs: 3600_000, firstPruneAfterMs: 3600_000 });
    cleanups.push(async () => {
      ctx.live.stop();
      await ctx.cluster.stop();
      await ctx.health.stop();
      await ctx.alerts.stop();
      await ctx.deliveries.stop();
      await ctx.retention.stop();
      await ctx.writer.close();
      await database.close();
    });
    const app = createApp(ctx);
    const ready = async () => {
      const req = new Request("http://vigil.test/api/v1/ready", { headers: { host: "vigil.test" } });
      peerAddress.set(req, "127.0.0.1");
      const res = await app.handle(req);
      return { status: res.status, body: (await res.json()) as unknown };
    };

    // Up: not ready (no worker), with the names of what fails.
    const up = await ready();
    expect(up.status).toBe(503);
    expect((up.body as { failing: string[] }).failing).toContain("workers-online");
    await server.stop();
    expect(await ready()).toEqual({ status: 503, body: { ready: false, failing: ["database"] } });
  },
  60_000,
);
