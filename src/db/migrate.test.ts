import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describeEachEngine } from "../../test/harness/engines.ts";
import { JOURNAL, MIGRATION_SQL } from "../../migrations/index.ts";
import { migrate } from "./migrate.ts";

test("every migration file on disk is embedded and in the journal", () => {
  const dir = join(import.meta.dir, "../../migrations");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.replace(/\.sql$/, ""))
    .sort();
  expect(Object.keys(MIGRATION_SQL).sort()).toEqual(files);
  expect(JOURNAL.entries.map((e) => e.tag).sort()).toEqual(files);
});

describeEachEngine("migrate", (_engine, open) => {
  test("creates the tables, and a second run changes nothing", async () => {
    const db = await open(); // open() has already migrated once
    const again = await migrate(db);
    expect(again.applied).toBe(0);
    expect(again.total).toBe(JOURNAL.entries.length);
    const tables = await db.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "alert_events",
      "alert_settings",
      "alerts",
      "api_tokens",
      "audit_log",
      "builtin_rules",
      "channels",
      "check_results",
      "deliveries",
      "gpu_processes",
      "gpu_rollup_1h",
      "gpu_rollup_1m",
      "gpu_samples",
      "gpus",
      "host_rollup_1h",
      "host_rollup_1m",
      "host_samples",
      "preflight_overrides",
      "restarts",
      "rollup_pending",
      "services",
      "sessions",
      "silences",
      "thresholds",
      "uptime_windows",
      "users",
      "workers",
    ]);
    const recorded = await db.query<{ n: number }>("select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(recorded[0]!.n).toBe(JOURNAL.entries.length);
  });
});
