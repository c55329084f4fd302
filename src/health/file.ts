// VIGIL_SERVICES_FILE: services declared in a JSON file, applied at every start (created, changed, and removed when gone from the file).
import { readFileSync } from "node:fs";
import { and, eq, notInArray } from "drizzle-orm";
import type { Actor } from "../auth/audit.ts";
import { InputError } from "../auth/text.ts";
import type { Db } from "../db/client.ts";
import { services } from "../db/schema/index.ts";
import { saveService } from "./store.ts";

/**
 * The file holds `{ "services": [ { "name": ..., "kind": ..., "config": {...}, ... } ] }` with the
 * fields of POST /api/v1/services. Services it created and no longer lists are removed; services
 * made in the UI or the API are never touched, and a name taken by one of them is an error.
 */
export async function applyServicesFile(db: Db, actor: Actor, path: string): Promise<{ applied: number; removed: number }> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new InputError(
      `services file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`,
    );
  }
  const list = (doc as { services?: unknown })?.services;
  if (!Array.isArray(list)) throw new InputError(`services file ${path}: expected {"services": [ ... ]}`);
  const names: string[] = [];
  for (const [i, entry] of list.entries()) {
    const name = String((entry as { name?: unknown })?.name ?? "");
    try {
      const [existing] = await db.select().from(services).where(eq(services.name, name));
      if (existing && existing.source !== "file")
        throw new InputError(`a service named ${name} was made in the UI or the API; rename one of them`);
      const row = await saveService(db, actor, entry, existing?.id);
      if (row.source !== "file") await db.update(services).set({ source: "file" }).where(eq(services.id, row.id));
      names.push(row.name);
    } catch (err) {
      if (err instanceof InputError)
        throw new InputError(`services file ${path}, entry ${i + 1}${name ? ` (${name})` : ""}: ${err.message}`);
      throw err;
    }
  }
  const gone = await db
    .delete(services)
    .where(and(eq(services.source, "file"), names.length ? notInArray(services.name, names) : undefined))
    .returning({ id: services.id });
  return { applied: names.length, removed: gone.length };
}
