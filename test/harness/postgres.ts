// Test harness: a real PostgreSQL for the storage tests, a throwaway local cluster or the server in TEST_DATABASE_URL.
import { appendFileSync, chownSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface TestPostgres {
  /** URL of the server's maintenance database (superuser). */
  url: string;
  /**
   * A fresh empty database each call; returns its URL. `name` is only a hint: it is sanitised and a
   * unique suffix is always added, so many tests (and files) can share one server without clashing.
   */
  createDatabase(name?: string): Promise<string>;
  /** Drops what this handle created (external server) or stops the cluster and removes its files. */
  stop(): Promise<void>;
}

const NOT_FOUND =
  "PostgreSQL server binaries (initdb, pg_ctl) not found; install them (Debian: apt-get install postgresql) or set TEST_DATABASE_URL";
const READY_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 20;
const RUN_AS = "postgres";

/** Start a server for tests: the one in TEST_DATABASE_URL if set, else a throwaway local cluster. */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return externalServer(external);
  return startCluster();
}

let shared: Promise<TestPostgres> | undefined;

/**
 * One server per test process, started on first use (bun test runs every file in one process).
 * Call `createDatabase()` on it for an isolated database. Stop it with `stopSharedPostgres()`; if nobody
 * does, the cluster goes away when the process ends (an 'exit' handler, and a watchdog for runners like
 * `bun test` that end without emitting 'exit'). A failed start is remembered, so every caller sees the
 * same error quickly.
 */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= startPostgres();
  return shared;
}

/** Stop the shared server if one was started; the next `sharedPostgres()` starts a new one. */
export async function stopSharedPostgres(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  let instance: TestPostgres;
  try {
    instance = await current;
  } catch {
    return; // it never started, there is nothing to stop
  }
  await instance.stop();
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

let dbCounter = 0;

function uniqueDatabaseName(hint?: string): string {
  const base = (hint ?? "test")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 30);
  const suffix = `${process.pid.toString(36)}_${(++dbCounter).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return `${base || "test"}_${suffix}`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function urlWithDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  client.on("error", () => {}); // a server going away must not crash the test process
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabaseOn(adminUrl: string, hint?: string): Promise<{ name: string; url: string }> {
  const name = uniqueDatabaseName(hint);
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`));
  return { name, url: urlWithDatabase(adminUrl, name) };
}

async function dropDatabaseOn(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    try {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    } catch {
      // servers before 13 have no WITH (FORCE): end the sessions, then drop.
      await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// External server (TEST_DATABASE_URL)

async function externalServer(url: string): Promise<TestPostgres> {
  try {
    await withClient(url, (c) => c.query("SELECT 1"));
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is set but its server cannot be reached (${redact(url)}): ${errorMessage(err)}`, { cause: err });
  }
  const created = new Set<string>();
  return {
    url,
    async createDatabase(name?: string) {
      const db = await createDatabaseOn(url, name);
      created.add(db.name);
      return db.url;
    },
    async stop() {
      const names = [...created];
      created.clear();
      for (const name of names) await dropDatabaseOn(url, name);
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable URL>";
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Throwaway cluster

interface ServerBinaries {
  initdb: string;
  pgCtl: string;
}

/** initdb and pg_ctl: from PATH first, then /usr/lib/postgresql/<version>/bin, newest version first. */
export function findServerBinaries(): ServerBinaries | undefined {
  const initdb = Bun.which("initdb");
  const pgCtl = Bun.which("pg_ctl");
  if (initdb && pgCtl) return { initdb, pgCtl };
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = readdirSync(root);
  } catch {
    return undefined;
  }
  const byNewest = versions.sort((a, b) => compareVersions(b, a));
  for (const version of byNewest) {
    const bin = path.join(root, version, "bin");
    const candidate = { initdb: path.join(bin, "initdb"), pgCtl: path.join(bin, "pg_ctl") };
    if (isExecutable(candidate.initdb) && isExecutable(candidate.pgCtl)) return candidate;
  }
  return undefined;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

function isExecutable(file: string): boolean {
  try {
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The command prefix that drops root to the postgres OS user (initdb and postgres refuse to run as root). */
function dropPrivilegesPrefix(): { prefix: string[]; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = idOf("-u");
  const gid = idOf("-g");
  if (uid === undefined || gid === undefined) {
    throw new Error(
      `running as root, and PostgreSQL will not run as root, but there is no '${RUN_AS}' OS user to run it as; ` +
        `create one (Debian: apt-get install postgresql creates it) or set TEST_DATABASE_URL`,
    );
  }
  const runuser = Bun.which("runuser");
  if (runuser) return { prefix: [runuser, "-u", RUN_AS, "--"], uid, gid };
  const setpriv = Bun.which("setpriv");
  if (setpriv) return { prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"], uid, gid };
  throw new Error(`running as root, but neither runuser nor setpriv is available to run PostgreSQL as the '${RUN_AS}' user`);
}

function idOf(flag: "-u" | "-g"): number | undefined {
  const r = Bun.spawnSync(["id", flag, RUN_AS], { stdout: "pipe", stderr: "ignore" });
  if (r.exitCode !== 0) return undefined;
  const n = Number.parseInt(r.stdout.toString().trim(), 10);
  return Number.isFinite(n) ? n : undefined;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

function logTail(logFile: string, lines = LOG_TAIL_LINES): string {
  try {
    const all = readFileSync(logFile, "utf8").trimEnd().split("\n");
    return all.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Environment for server processes: no PG* variables leaking in from the caller, a plain C locale. */
function serverEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("PG") && !k.startsWith("LC_") && k !== "LANG") env[k] = v;
  }
  env.LC_ALL = "C";
  env.LANG = "C";
  return env;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // An exited postmaster is reparented to init and may linger as a zombie for a moment: that is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * A detached shell that outlives us: once this process is gone (crash, SIGKILL, or a runner such as
 * `bun test` that exits without emitting 'exit'), it shuts the cluster down and removes its directory.
 */
const WATCHDOG_SCRIPT = `
parent=$1; dir=$2
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]
}
while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
pidfile="$dir/data/postmaster.pid"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  if [ -n "$pid" ]; then
    kill -QUIT "$pid" 2>/dev/null
    i=0
    while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$pid" 2>/dev/null
  fi
fi
rm -rf "$dir"
`;

function startWatchdog(baseDir: string): { stop(): void } {
  const proc = Bun.spawn(["sh", "-c", WATCHDOG_SCRIPT, "vigil-pg-watchdog", String(process.pid), baseDir], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  proc.unref();
  return {
    stop() {
      try {
        proc.kill("SIGKILL");
      } catch {}
    },
  };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const first = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0];
    const pid = Number.parseInt(first ?? "", 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function startCluster(): Promise<TestPostgres> {
  const bins = findServerBinaries();
  if (!bins) throw new Error(NOT_FOUND);
  const drop = dropPrivilegesPrefix();

  const baseDir = mkdtempSync(path.join(os.tmpdir(), "vigil-pg-"));
  const dataDir = path.join(baseDir, "data");
  const logFile = path.join(baseDir, "server.log");
  closeSync(openSync(logFile, "a"));
  if (drop) {
    chownSync(baseDir, drop.uid, drop.gid);
    chownSync(logFile, drop.uid, drop.gid);
  }
  const env = serverEnv();

  /** Run a server command (as the postgres user when root), output appended to the log file. */
  async function run(argv: string[]): Promise<void> {
    const cmd = [...(drop?.prefix ?? []), ...argv];
    const fd = openSync(logFile, "a");
    let code: number;
    try {
      appendFileSync(fd, `\n$ ${argv.join(" ")}\n`);
      const proc = Bun.spawn(cmd, { cwd: baseDir, env, stdin: "ignore", stdout: fd, stderr: fd });
      code = await proc.exited;
    } finally {
      closeSync(fd);
    }
    if (code !== 0) {
      throw new Error(`${cmd.join(" ")} exited with code ${code}\n--- last ${LOG_TAIL_LINES} lines of ${logFile} ---\n${logTail(logFile)}`);
    }
  }

  const watchdog = startWatchdog(baseDir);
  let stopped = false;
  const onExit = () => {
    // Last resort when a process ends without stop(): immediate shutdown, synchronously.
    if (stopped) return;
    stopped = true;
    watchdog.stop();
    const pid = postmasterPid(dataDir);
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT");
      } catch {}
      const deadline = Date.now() + 5_000;
      while (pidAlive(pid) && Date.now() < deadline) Bun.sleepSync(10);
      if (pidAlive(pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    try {
      rmSync(baseDir, { recursive: true, force: true });
    } catch {}
  };
  process.on("exit", onExit);

  let port = 0;
  try {
    await run([bins.initdb, "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);

    // The port is picked before the server binds it; if another process takes it meanwhile, try another.
    for (let attempt = 1; ; attempt++) {
      port = freePort();
      appendFileSync(
        path.join(dataDir, "postgresql.conf"),
        [
          "",
          "# vigil test harness",
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          `unix_socket_directories = '${baseDir.replace(/'/g, "''")}'`,
          "fsync = off",
          "synchronous_commit = off",
          "full_page_writes = off",
          "",
        ].join("\n"),
      );
      try {
        await run([bins.pgCtl, "start", "-D", dataDir, "-l", logFile, "-w", "-t", String(READY_TIMEOUT_MS / 1000), "-s"]);
        break;
      } catch (err) {
        if (attempt < 3 && /could not bind|Address already in use/i.test(logTail(logFile, 200))) continue;
        throw err;
      }
    }

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitReady(url, logFile);

    return {
      url,
      async createDatabase(name?: string) {
        return (await createDatabaseOn(url, name)).url;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off("exit", onExit);
        const pid = postmasterPid(dataDir);
        try {
          await run([bins.pgCtl, "stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30", "-s"]);
        } catch {
          if (pid !== undefined) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {}
          }
        }
        if (pid !== undefined) {
          const deadline = Date.now() + 10_000;
          while (pidAlive(pid) && Date.now() < deadline) await Bun.sleep(20);
        }
        rmSync(baseDir, { recursive: true, force: true });
        watchdog.stop();
      },
    };
  } catch (err) {
    // Leave nothing behind when starting fails, but keep the story in the error.
    onExit();
    process.off("exit", onExit);
    throw err;
  }
}

async function waitReady(url: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await withClient(url, (c) => c.query("SELECT 1"));
      return;
    } catch (err) {
      last = err;
      await Bun.sleep(100);
    }
  }
  throw new Error(
    `PostgreSQL at ${url} did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${errorMessage(last)})\n` +
      `--- last ${LOG_TAIL_LINES} lines of ${logFile} ---\n${logTail(logFile)}`,
  );
}
