// Runs an account operation from the command line: on the database directly, or through the running head that holds it.
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { checkDataDir, ConfigError } from "../config.ts";
import { DatabaseError } from "../db/errors.ts";
import { lockHolder } from "../db/lock.ts";
import { withDatabase, type DatabaseSettings } from "../db/session.ts";
import { migrate } from "../db/migrate.ts";
import { InputError } from "../auth/text.ts";
import { adminSocketPath } from "./socket.ts";
import { OPERATIONS, type OperationName } from "./operations.ts";

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? "?"}`;
  }
}

/**
 * PGlite belongs to one process: while a head holds the data directory the operation goes
 * through its admin socket; otherwise (or with an external PostgreSQL) it runs here.
 */
export async function runOperation(
  config: DatabaseSettings,
  op: OperationName,
  args: Record<string, unknown>,
  /** Bring the schema up to date first (a report of the database as it is says no). */
  opts: { migrate?: boolean } = {},
): Promise<unknown> {
  const actor = { label: cliActor(), ip: "cli" };
  if (!config.databaseUrl) {
    // A directory that is there is checked first, so one this user cannot read is said so, not "empty".
    if (existsSync(config.dataDir)) checkDataDir(config.dataDir);
    const holder = lockHolder(config.dataDir);
    if (holder) return viaSocket(config.dataDir, holder.pid, op, args, actor.label);
    // Only `serve` and `migrate` create a database: a user or token made in a new one would be
    // refused by the real head, wherever its data lives.
    if (!holdsVigilDatabase(config.dataDir)) throw new ConfigError(noDatabaseHere(config.dataDir));
  }
  return withDatabase(config, op, async (database) => {
    if (opts.migrate !== false) await migrate(database);
    return OPERATIONS[op](database.db, actor, args, undefined); // no head runs it: nobody knows its address
  });
}

/** The embedded database's marks: PostgreSQL's version file in the data directory's pglite/ (src/db/client.ts). */
export function holdsVigilDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, "pglite", "PG_VERSION"));
}

function noDatabaseHere(dataDir: string): string {
  const shown = relative(process.cwd(), dataDir);
  const where = shown === "" ? "." : shown.startsWith("..") || isAbsolute(shown) ? dataDir : `./${shown}`;
  return `no Vigil database in ${where}: is the head's data directory elsewhere? pass --data-dir (a systemd head uses /var/lib/vigil) or DATABASE_URL`;
}

async function viaSocket(dataDir: string, pid: number, op: OperationName, args: Record<string, unknown>, actor: string): Promise<unknown> {
  const path = adminSocketPath(dataDir);
  let res: Response | undefined;
  // A head that is still starting holds the lock before its socket exists: wait for it a while.
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(`http://vigil-admin/op/${op}`, {
        method: "POST",
        unix: path,
        body: JSON.stringify({ actor, args }),
        headers: { "content-type": "application/json" },
      });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new DatabaseError(
          `the head (pid ${pid}) holds ${dataDir} but its admin socket ${path} does not answer: ${(err as Error).message}`,
        );
      }
      if (attempt === 0) console.error(`waiting for the head (pid ${pid}) to finish starting…`);
      await Bun.sleep(250);
    }
  }
  const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: string };
  if (res.status === 400) throw new InputError(body.error ?? "refused");
  if (!res.ok) throw new DatabaseError(`the head refused: ${body.error ?? res.status}`);
  return body.result;
}
