// DATABASE_URL in the Unix-socket form (postgres://USER@/DB?host=DIR) reaches a real PostgreSQL through the socket in DIR.
import { afterAll, expect, test } from "bun:test";
import pg from "pg";
import { parseCommandConfig } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { sharedPostgres } from "../harness/postgres.ts";

const opened: Database[] = [];
afterAll(async () => {
  for (const d of opened) await d.close();
});

// The harness's throwaway cluster listens on TCP and on a socket in its own temp directory; an external
// TEST_DATABASE_URL server may have no socket here.
test.skipIf(!!process.env.TEST_DATABASE_URL)(
  "postgres://USER@/DB?host=SOCKET_DIR is accepted and connects through the socket",
  async () => {
    const server = await sharedPostgres();
    const dbUrl = new URL(await server.createDatabase("socket"));
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const dir = String((await client.query("show unix_socket_directories")).rows[0].unix_socket_directories)
      .split(",")[0]!
      .trim();
    const port = String((await client.query("show port")).rows[0].port);
    await client.end();
    expect(dir).toStartWith("/");

    const raw = `postgres://postgres@${dbUrl.pathname}?host=${dir}&port=${port}`;
    const { config } = parseCommandConfig("serve", ["databaseUrl"], [], { DATABASE_URL: raw });
    expect(config.databaseUrl).toBe(raw);
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: "/nonexistent" });
    opened.push(database);
    // No server address: the session came over a Unix socket, not TCP.
    const [row] = await database.query<{ addr: string | null; db: string }>(
      "select inet_server_addr()::text as addr, current_database() as db",
    );
    expect(row).toEqual({ addr: null, db: decodeURIComponent(dbUrl.pathname.slice(1)) });
  },
);
