// The cluster link on a real PostgreSQL: messages reach the other heads (not the sender), addressed ones only their head, big ones whole, and listening survives a lost session.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openDatabase, type Database } from "../db/client.ts";
import { log } from "../log.ts";
import { sharedPostgres } from "../../test/harness/postgres.ts";
import { ClusterLink } from "./link.ts";

const opened: Database[] = [];
const links: ClusterLink[] = [];
let url = "";

beforeAll(async () => {
  url = await (await sharedPostgres()).createDatabase("link");
}, 60_000);

afterAll(async () => {
  for (const l of links) await l.stop();
  for (const d of opened) await d.close().catch(() => {});
});

async function link(): Promise<{ link: ClusterLink; heard: { body: unknown; from: string }[] }> {
  const database = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", poolSize: 2 });
  opened.push(database);
  const l = new ClusterLink({ database, log, backoffMs: 50 });
  links.push(l);
  const heard: { body: unknown; from: string }[] = [];
  l.on("test", (body, from) => void heard.push({ body, from }));
  await l.start();
  return { link: l, heard };
}

async function until(what: string, fn: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

test("a message reaches every other head, not its sender; an addressed one only its head (itself included)", async () => {
  const [a, b, c] = [await link(), await link(), await link()];
  await a.link.send("test", { n: 1 });
  await until("b and c to hear", () => b.heard.length === 1 && c.heard.length === 1);
  expect(b.heard[0]).toEqual({ body: { n: 1 }, from: a.link.headId });
  await a.link.send("test", { n: 2 }, c.link.headId);
  await a.link.send("test", { n: 3 }, a.link.headId);
  await until("c and a to hear", () => c.heard.length === 2 && a.heard.length === 1);
  expect(a.heard.map((h) => h.body)).toEqual([{ n: 3 }]);
  expect(b.heard).toHaveLength(1);
});

test("a message larger than a NOTIFY payload arrives whole", async () => {
  const [a, b] = [await link(), await link()];
  // Multi-byte text, so byte and character lengths differ.
  const text = Array.from({ length: 2000 }, (_, i) => `Zeile ${i}: Grüße, 温度 ✓`).join("\n");
  await a.link.send("test", { text });
  await until("b to hear", () => b.heard.length === 1);
  expect((b.heard[0]!.body as { text: string }).text).toBe(text);
});

test("a lost LISTEN session is reopened, the head told to re-read, and messages arrive again", async () => {
  const [a, b] = [await link(), await link()];
  let reconnects = 0;
  b.link.onReconnect(() => reconnects++);
  const admin = opened.at(-1)!;
  await admin.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'vigil listen' and datname = current_database() and pid <> pg_backend_pid()",
  );
  await until("b to listen again", () => reconnects === 1);
  await a.link.send("test", { after: true });
  await until("b to hear", () => b.heard.length === 1);
});
