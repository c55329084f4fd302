// The head's PostgreSQL pool carries the configured statement_timeout, and the server enforces it.
import { afterAll, expect, test } from "bun:test";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { sharedPostgres } from "../harness/postgres.ts";

const opened: Database[] = [];
afterAll(async () => {
  for (const d of opened) await d.close();
});

test("VIGIL_DB_STATEMENT_TIMEOUT reaches every pooled session: a longer statement is cancelled, saying why", async () => {
  const url = await (await sharedPostgres()).createDatabase("pool");
  const database = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 2, statementTimeoutMs: 300 });
  opened.push(database);
  const [setting] = await database.query<{ statement_timeout: string }>("show statement_timeout");
  expect(setting!.statement_timeout).toBe("300ms");
  await expect(database.query("select pg_sleep(2)")).rejects.toThrow("canceling statement due to statement timeout");
  // The pool is still usable after a cancelled statement.
  expect(await database.query<{ one: number }>("select 1 as one")).toEqual([{ one: 1 }]);
});

test("without a timeout the server's own applies (none by default)", async () => {
  const url = await (await sharedPostgres()).createDatabase("pool-none");
  const database = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 1 });
  opened.push(database);
  const [setting] = await database.query<{ statement_timeout: string }>("show statement_timeout");
  expect(setting!.statement_timeout).toBe("0");
});
