// The embedded database checkpoints on its own: PGlite has no checkpointer process, and without checkpoints its WAL grows without bound.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "./client.ts";

test("PGlite is checkpointed by a timer, so WAL segments can be recycled", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-checkpoint-"));
  const db = await openDatabase({ dataDir: dir, keepAssets: true, checkpointEveryMs: 100 });
  try {
    const lsn = async () => (await db.query<{ lsn: string }>("select checkpoint_lsn::text as lsn from pg_control_checkpoint()"))[0]!.lsn;
    await db.query("create table filler (a int, b text)");
    await db.query("insert into filler select g, repeat('x', 100) from generate_series(1, 20000) g");
    const before = await lsn();
    const deadline = Date.now() + 5000;
    while ((await lsn()) === before && Date.now() < deadline) await Bun.sleep(50);
    expect(await lsn()).not.toBe(before);
    const [settings] = await db.query<{ max: string }>("select current_setting('max_wal_size') as max");
    expect(settings!.max).toBe("256MB");
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
