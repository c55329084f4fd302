// Loop leadership on a real PostgreSQL: one head leads, a stopped or cut-off leader is replaced within a retry.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openDatabase, type Database } from "../db/client.ts";
import { log } from "../log.ts";
import { sharedPostgres } from "../../test/harness/postgres.ts";
import { Leadership, LOOP_LOCKS, type LoopName } from "./leader.ts";

const LOOPS = Object.keys(LOOP_LOCKS) as LoopName[];
const opened: Database[] = [];
let url = "";

beforeAll(async () => {
  url = await (await sharedPostgres()).createDatabase("leader");
}, 60_000);

afterAll(async () => {
  for (const d of opened) await d.close().catch(() => {});
});

async function head(name: string, events: string[]): Promise<Leadership> {
  const database = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 2 });
  opened.push(database);
  const l = new Leadership({ database, log: log.child({ head: name }), retryMs: 100 });
  for (const loop of LOOPS)
    l.register(loop, {
      lead: async () => void events.push(`${name} leads ${loop}`),
      follow: async () => void events.push(`${name} follows ${loop}`),
    });
  return l;
}

async function until(what: string, fn: () => boolean, timeoutMs = 3_000): Promise<number> {
  const started = performance.now();
  while (!fn()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
  return performance.now() - started;
}

test("the first head leads every loop, the second none; the second takes them all once the first stops", async () => {
  const events: string[] = [];
  const a = await head("a", events);
  const b = await head("b", events);
  await a.start();
  await b.start();
  expect(a.leading().sort()).toEqual([...LOOPS].sort());
  expect(b.leading()).toEqual([]);
  await a.stop();
  // Riders stop before what they ride with: health before alerts.
  expect(events.indexOf("a follows health")).toBeLessThan(events.indexOf("a follows alerts"));
  const ms = await until("b to lead", () => b.leading().length === LOOPS.length);
  expect(ms).toBeLessThan(500);
  expect(events.filter((e) => e.startsWith("b leads"))).toHaveLength(LOOPS.length);
  await b.stop();
});

test("a leader whose session the server ends stops its loops at once; then each loop is led by exactly one head again", async () => {
  const events: string[] = [];
  const a = await head("a", events);
  const b = await head("b", events);
  await a.start();
  await b.start();
  expect(a.leads("alerts")).toBe(true);
  // What a cut network looks like from the server: the session is gone, and its locks with it.
  const admin = opened.at(-1)!;
  await admin.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'vigil leadership' and datname = current_database() and pid in (select pid from pg_locks where locktype = 'advisory' and objid = $1)",
    [LOOP_LOCKS.alerts],
  );
  await until("a to stop its loops", () => LOOPS.every((l) => events.includes(`a follows ${l}`)));
  // Whichever head's retry comes first (a reconnects as well), every loop has one leader again.
  await until("every loop led again", () => a.leading().length + b.leading().length === LOOPS.length);
  for (const loop of LOOPS) expect(Number(a.leads(loop)) + Number(b.leads(loop))).toBe(1);
  // Health rides with alerts: both on one head.
  expect(a.leads("health") ? a.leads("alerts") : b.leads("alerts")).toBe(true);
  await a.stop();
  await b.stop();
});
