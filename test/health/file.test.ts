// VIGIL_SERVICES_FILE: applied at start, changes and removals follow the file, UI-made services are left alone, mistakes name the entry.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../src/auth/audit.ts";
import type { Database } from "../../src/db/client.ts";
import { services } from "../../src/db/schema/index.ts";
import { applyServicesFile } from "../../src/health/file.ts";
import { saveService } from "../../src/health/store.ts";
import { freshDatabase } from "../harness/engines.ts";
import { tempDir } from "../harness/process.ts";

let database: Database;
const dir = tempDir("vigil-services-file-");
const file = join(dir, "services.json");
beforeAll(async () => {
  database = await freshDatabase("postgres");
});
afterAll(() => database.close());

const write = (list: unknown[]) => writeFileSync(file, JSON.stringify({ services: list }));
const fileServices = async () =>
  (await database.db.select().from(services))
    .filter((s) => s.source === "file")
    .map((s) => [s.name, s.kind, s.intervalSeconds])
    .sort();

test("creates, changes and removes what the file lists; leaves UI-made services alone", async () => {
  write([
    { name: "model-api", kind: "http", config: { url: "http://10.0.0.7:8000/health" }, critical: true },
    { name: "redis", kind: "tcp", config: { host: "10.0.0.8", port: 6379 } },
  ]);
  expect(await applyServicesFile(database.db, SYSTEM, file)).toEqual({ applied: 2, removed: 0 });
  expect(await fileServices()).toEqual([
    ["model-api", "http", 30],
    ["redis", "tcp", 30],
  ]);
  write([{ name: "model-api", kind: "http", config: { url: "http://10.0.0.7:8000/health" }, intervalSeconds: 10 }]);
  expect(await applyServicesFile(database.db, SYSTEM, file)).toEqual({ applied: 1, removed: 1 });
  expect(await fileServices()).toEqual([["model-api", "http", 10]]);
  // The seeded services (made by Vigil, not by the file) are untouched.
  expect((await database.db.select().from(services)).map((s) => s.name)).toContain("Database");
});

test("a mistake names the file, the entry and what to fix; a UI-made service's name is not taken over", async () => {
  write([
    { name: "ok", kind: "tcp", config: { host: "10.0.0.8", port: 6379 } },
    { name: "bad", kind: "tcp", config: { host: "10.0.0.8" } },
  ]);
  await expect(applyServicesFile(database.db, SYSTEM, file)).rejects.toThrow(
    `services file ${file}, entry 2 (bad): config: port is required`,
  );
  await saveService(database.db, SYSTEM, { name: "from-ui", kind: "tcp", config: { host: "10.0.0.9", port: 22 } });
  write([{ name: "from-ui", kind: "tcp", config: { host: "10.0.0.9", port: 22 } }]);
  await expect(applyServicesFile(database.db, SYSTEM, file)).rejects.toThrow("was made in the UI or the API");
  writeFileSync(file, "{ not json");
  await expect(applyServicesFile(database.db, SYSTEM, file)).rejects.toThrow(`services file ${file}:`);
  await expect(applyServicesFile(database.db, SYSTEM, join(dir, "missing.json"))).rejects.toThrow("not found");
});
