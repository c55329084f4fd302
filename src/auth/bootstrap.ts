// First start: with no users, create `admin` with VIGIL_ADMIN_PASSWORD or a random password printed once.
import type { Db } from "../db/client.ts";
import { ConfigError } from "../config.ts";
import { SYSTEM } from "./audit.ts";
import { checkPassword, generatePassword } from "./passwords.ts";
import { InputError } from "./text.ts";
import { addUser, countUsers } from "./users.ts";

export const FIRST_ADMIN = "admin";

export type Bootstrap = { created: false } | { created: true; generated: string | undefined };

export async function ensureFirstAdmin(db: Db, configured: string | undefined): Promise<Bootstrap> {
  if ((await countUsers(db)) > 0) return { created: false };
  if (configured !== undefined) {
    try {
      checkPassword(configured);
    } catch (err) {
      throw new ConfigError(`VIGIL_ADMIN_PASSWORD: ${(err as Error).message}`);
    }
  }
  const password = configured ?? generatePassword();
  try {
    await addUser(db, SYSTEM, { name: FIRST_ADMIN, role: "admin", password });
  } catch (err) {
    // Another head sharing the database created it first.
    if (err instanceof InputError) return { created: false };
    throw err;
  }
  return { created: true, generated: configured === undefined ? password : undefined };
}
