// Starts and stops the head: database, migrations, ingest path, local agent and HTTP server, in that order.
import { hostname } from "node:os";
import { SYSTEM } from "../auth/audit.ts";
import { applyServicesFile } from "../health/file.ts";
import { checkDataDir } from "../config.ts";
import { openDatabase, type Database } from "../db/client.ts";
import { acquireDataDirLock } from "../db/lock.ts";
import { migrate } from "../db/migrate.ts";
import { upsertWorker } from "../fleet/workers.ts";
import { log } from "../log.ts";
import { createApp } from "../app.ts";
import { createSampler } from "../../agent/sampler.ts";
import { startLocalAgent, type LocalAgent } from "../../agent/local.ts";
import type { HeadConfig, HeadContext } from "./context.ts";
import { VERSION } from "../version.ts";
import { ensureFirstAdmin, FIRST_ADMIN } from "../auth/bootstrap.ts";
import { pruneSessions } from "../auth/sessions.ts";
import { startAdminSocket } from "../admin/socket.ts";
import { assembleHead } from "./assemble.ts";

export interface RunningHead {
  ctx: HeadContext;
  url: string;
  stop(): Promise<void>;
}

export async function startHead(config: HeadConfig): Promise<RunningHead> {
  const started = performance.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error("shutdown step failed", { error: err });
      }
    }
  };
  try {
    if (!config.databaseUrl) {
      checkDataDir(config.dataDir);
      cleanups.push(acquireDataDirLock(config.dataDir, "serve"));
    }
    const database: Database = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      pgliteSharedBuffers: config.pgliteSharedBuffers,
      poolSize: config.dbPoolSize,
      statementTimeoutMs: config.dbStatementTimeout * 1000,
    });
    cleanups.push(() => database.close());
    const migration = await migrate(database);
    log.info("database ready", {
      engine: database.engine,
      where: database.describe,
      migrationsApplied: migration.applied,
      migrations: migration.total,
    });

    if (config.servicesFile) {
      // Before the health loop starts, so it checks what the file says from the first round.
      const r = await applyServicesFile(database.db, SYSTEM, config.servicesFile);
      log.info("services file applied", { file: config.servicesFile, ...r });
    }
    const ctx = await assembleHead({ config, database, log, scheduleHealth: true });
    const { security, restored } = ctx;
    // Stopped in reverse: the retention loop's job in progress first, then the writer's last flush.
    cleanups.push(() => ctx.writer.close());
    cleanups.push(() => ctx.retention.stop());
    cleanups.push(async () => {
      // Letting go of the loops first: the other heads take them over while this one finishes.
      await ctx.cluster.stop();
      await ctx.health.stop();
      await ctx.alerts.stop();
      await ctx.deliveries.stop();
    });

    if (!config.databaseUrl) {
      const socket = startAdminSocket(database.db, config.dataDir, log.child({ component: "admin-socket" }), {
        workerUrl: config.publicUrl ?? `http://${hostname()}:${config.listen.port}`,
        configured: config.publicUrl !== undefined,
      });
      cleanups.push(() => socket.stop(true));
    }

    const boot = await ensureFirstAdmin(database.db, config.adminPassword);
    if (boot.created) announceFirstAdmin(boot.generated);
    // Ended sessions are deleted when next presented; this sweeps the ones never presented again.
    const sweep = setInterval(() => {
      pruneSessions(database.db, security.sessions).catch((err: unknown) => log.warn("session sweep failed", { error: err }));
    }, 3600_000);
    sweep.unref();
    cleanups.push(() => clearInterval(sweep));

    let agent: LocalAgent | undefined;
    if (config.localAgent) {
      const sampler = createSampler({ ...config, log: log.child({ component: "local-agent" }) });
      cleanups.push(() => sampler.close());
      const id = await upsertWorker(database.db, {
        name: config.workerName,
        kind: "local",
        hostname: config.workerName,
        intervalSeconds: config.interval,
      });
      agent = await startLocalAgent({
        worker: { id, name: config.workerName },
        ingestor: ctx.ingestor,
        sampler,
        intervalSeconds: config.interval,
        log: log.child({ component: "local-agent" }),
        probes: { logUnits: [], paths: [...config.probePaths] },
      });
      ctx.probes.setLocal(id, (probe, timeoutMs) => agent!.probe(probe, timeoutMs));
      // Stop sampling before the writer's final flush, so the last samples are committed.
      cleanups.push(() => agent!.stop());
    }

    const app = createApp(ctx);
    try {
      // reusePort off: Elysia asks for SO_REUSEPORT, with which a second head on a taken port starts silently and
      // the kernel splits connections between two heads (and two databases).
      app.listen({
        hostname: config.listen.host,
        port: config.listen.port,
        idleTimeout: 60,
        maxRequestBodySize: 16 * 1024 * 1024,
        reusePort: false,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `cannot listen on ${config.listen.host}:${config.listen.port}: ${e.code === "EADDRINUSE" ? "address already in use (another vigil?); set VIGIL_LISTEN or --listen" : e.message}`,
      );
    }
    const server = app.server!;
    cleanups.push(async () => {
      await app.stop(true);
    });
    // Runs before the server stops (cleanups run in reverse): open pages see their streams end and reconnect later.
    cleanups.push(() => ctx.live.stop());
    const url = `http://${config.listen.host === "0.0.0.0" ? "localhost" : config.listen.host}:${server.port}`;
    // Starting PGlite (initdb above all) leaves hundreds of MiB of garbage; collect it now rather than whenever.
    setTimeout(() => Bun.gc(true), 1000).unref();
    log.info("vigil serving", {
      url,
      version: VERSION,
      workersRestored: restored,
      localAgent: config.localAgent,
      startupMs: Math.round(performance.now() - started),
    });
    return { ctx, url, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The one time the generated admin password is shown: in the log and, for the person at the terminal, on stdout. */
function announceFirstAdmin(generated: string | undefined): void {
  if (generated === undefined) {
    log.info("created the first user from VIGIL_ADMIN_PASSWORD", { user: FIRST_ADMIN });
    return;
  }
  log.warn("created the first user with a one-time password; sign in and change it", { user: FIRST_ADMIN, password: generated });
  process.stdout.write(
    [
      "",
      "  Vigil created the first user. This password is shown once:",
      "",
      `    user:     ${FIRST_ADMIN}`,
      `    password: ${generated}`,
      "",
      "  Sign in, then change it under your name in the top bar. Lost it? vigil user passwd admin",
      "",
      "",
    ].join("\n"),
  );
}
