// PgBus on a real PostgreSQL: events reach this head at once and the others through NOTIFY; samples stay home, pings go round to the sender.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ClusterLink } from "../cluster/link.ts";
import { openDatabase, type Database } from "../db/client.ts";
import { log } from "../log.ts";
import { sharedPostgres } from "../../test/harness/postgres.ts";
import type { LiveEvent } from "./bus.ts";
import { PgBus } from "./pg-bus.ts";

const opened: Database[] = [];
const links: ClusterLink[] = [];
let url = "";

beforeAll(async () => {
  url = await (await sharedPostgres()).createDatabase("pgbus");
}, 60_000);

afterAll(async () => {
  for (const l of links) await l.stop();
  for (const d of opened) await d.close().catch(() => {});
});

async function head(): Promise<{ bus: PgBus; seen: LiveEvent[] }> {
  const database = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 2 });
  opened.push(database);
  const link = new ClusterLink({ database, log });
  links.push(link);
  await link.start();
  const bus = new PgBus(link);
  const seen: LiveEvent[] = [];
  bus.subscribe((e) => void seen.push(e));
  return { bus, seen };
}

test("alerts reach this head at once and the other head once; a sample stays on its head; a ping comes back only to its sender", async () => {
  const [a, b] = [await head(), await head()];
  a.bus.publish({ topic: "alerts", workerIds: [7] });
  // Synchronously here: the publisher's own pages never wait on the database.
  expect(a.seen).toEqual([{ topic: "alerts", workerIds: [7] }]);
  a.bus.publish({ topic: "sample", workerId: 7 });
  a.bus.publish({ topic: "ping", id: "p1" });
  const deadline = Date.now() + 3_000;
  while ((b.seen.length < 1 || a.seen.length < 3) && Date.now() < deadline) await Bun.sleep(10);
  expect(b.seen).toEqual([{ topic: "alerts", workerIds: [7] }]);
  expect(a.seen).toEqual([
    { topic: "alerts", workerIds: [7] },
    { topic: "sample", workerId: 7 },
    { topic: "ping", id: "p1" },
  ]);
  await Bun.sleep(100);
  // No echo of its own alerts event.
  expect(a.seen).toHaveLength(3);
  expect(b.seen).toHaveLength(1);
});
