// Tests for the PostgreSQL test harness: real server, isolated databases, clean stop.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { sharedPostgres, startPostgres, stopSharedPostgres } from "./postgres.ts";

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await query<{ exists: boolean }>(url, "SELECT to_regclass($1) IS NOT NULL AS exists", [table]);
  return rows[0]?.exists === true;
}

function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2_000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

const external = !!process.env.TEST_DATABASE_URL;

describe("postgres test harness", () => {
  afterAll(async () => {
    await stopSharedPostgres();
  });

  test("the shared server is real PostgreSQL and is started once", async () => {
    const server = await sharedPostgres();
    expect(await sharedPostgres()).toBe(server);
    const rows = await query<{ version: string }>(server.url, "SELECT version()");
    expect(rows[0]?.version).toContain("PostgreSQL");
  }, 60_000);

  test("createDatabase gives fresh, isolated databases", async () => {
    const server = await sharedPostgres();
    const a = await server.createDatabase("isolation a");
    const b = await server.createDatabase("isolation a"); // same hint, still a different database
    expect(a).not.toBe(b);

    const [nameA] = await query<{ db: string }>(a, "SELECT current_database() AS db");
    const [nameB] = await query<{ db: string }>(b, "SELECT current_database() AS db");
    expect(nameA?.db).not.toBe(nameB?.db);

    expect(await tableExists(a, "harness_probe")).toBe(false);
    await query(a, "CREATE TABLE harness_probe (id int PRIMARY KEY)");
    await query(a, "INSERT INTO harness_probe VALUES (1)");
    expect(await tableExists(a, "harness_probe")).toBe(true);
    expect(await tableExists(b, "harness_probe")).toBe(false);

    const tables = await query<{ n: string }>(b, "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public'");
    expect(tables[0]?.n).toBe("0");
  }, 60_000);

  if (external) {
    test("stop() drops the databases it created on the TEST_DATABASE_URL server", async () => {
      const server = await startPostgres();
      const url = await server.createDatabase("dropped on stop");
      const [row] = await query<{ db: string }>(url, "SELECT current_database() AS db");
      const name = row?.db ?? "";
      expect(name).not.toBe("");
      await server.stop();
      const left = await query(server.url, "SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      expect(left.length).toBe(0);
    }, 60_000);
  } else {
    test("stop() shuts a throwaway cluster down and removes its directory", async () => {
      const server = await startPostgres();
      const shared = await sharedPostgres();
      expect(server.url).not.toBe(shared.url);

      const { hostname, port } = new URL(server.url);
      const [row] = await query<{ data_directory: string }>(server.url, "SHOW data_directory");
      const dataDir = row?.data_directory ?? "";
      expect(dataDir).not.toBe("");
      const tempDir = path.dirname(dataDir);
      expect(existsSync(tempDir)).toBe(true);
      expect(await acceptsConnections(hostname, Number(port))).toBe(true);

      await server.stop();
      expect(await acceptsConnections(hostname, Number(port))).toBe(false);
      expect(existsSync(tempDir)).toBe(false);
      await server.stop(); // idempotent

      // The shared server is unaffected.
      const rows = await query<{ one: number }>(shared.url, "SELECT 1 AS one");
      expect(rows[0]?.one).toBe(1);
    }, 60_000);
  }
});
