// User accounts: add, list, change password or role, remove. Every change is audited; password changes end all sessions.
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { sessions, users } from "../db/schema/index.ts";
import { audit, type Actor } from "./audit.ts";
import { checkPassword, hashPassword } from "./passwords.ts";
import { isRole, type Role } from "./roles.ts";
import { cleanName, InputError } from "./text.ts";

export interface UserInfo {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
  lastLoginAt: string | null;
}

export type UserRow = typeof users.$inferSelect;

/** Users are looked up through the md5(name) index (names may be longer than a btree entry). */
const byName = (name: string) => sql`md5(${users.name}) = md5(${name}) and ${users.name} = ${name}`;

function toInfo(u: UserRow): UserInfo {
  return {
    id: u.id,
    name: u.name,
    role: u.role as Role,
    createdAt: u.createdAt.toISOString(),
    passwordChangedAt: u.passwordChangedAt.toISOString(),
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  };
}

export function checkRole(raw: unknown): Role {
  if (!isRole(raw)) throw new InputError(`role must be admin or viewer`);
  return raw;
}

export async function findUser(db: Db, name: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(byName(name)))[0];
}

export async function getUser(db: Db, id: number): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.id, id)))[0];
}

export async function listUsers(db: Db): Promise<UserInfo[]> {
  return (await db.select().from(users).orderBy(asc(users.id))).map(toInfo);
}

export async function countUsers(db: Db): Promise<number> {
  const r = await db.select({ n: sql<number>`count(*)::int` }).from(users);
  return Number(r[0]?.n ?? 0);
}

export async function addUser(db: Db, actor: Actor, input: { name: unknown; role: unknown; password: unknown }): Promise<UserInfo> {
  const name = cleanName(input.name, "user name");
  const role = checkRole(input.role);
  const password = checkPassword(input.password);
  if (await findUser(db, name)) throw new InputError(`a user with that name already exists`);
  const passwordHash = await hashPassword(password);
  const rows = await db.insert(users).values({ name, role, passwordHash }).onConflictDoNothing().returning();
  const row = rows[0];
  if (!row) throw new InputError(`a user with that name already exists`);
  await audit(db, actor, { action: "user.add", target: name, details: { role } });
  return toInfo(row);
}

/** Sets a new password and ends every session of the user (a stolen cookie dies with the old password). */
export async function setPassword(db: Db, actor: Actor, name: string, password: unknown): Promise<UserInfo> {
  const pw = checkPassword(password);
  const user = await findUser(db, name);
  if (!user) throw new InputError(`no such user`);
  const passwordHash = await hashPassword(pw);
  const [row] = await db.transaction(async (tx) => {
    await tx.delete(sessions).where(eq(sessions.userId, user.id));
    return tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, user.id)).returning();
  });
  await audit(db, actor, { action: "user.passwd", target: user.name });
  return toInfo(row!);
}

export async function setRole(db: Db, actor: Actor, name: string, roleRaw: unknown): Promise<UserInfo> {
  const role = checkRole(roleRaw);
  const user = await findUser(db, name);
  if (!user) throw new InputError(`no such user`);
  const row = await db.transaction(async (tx) => {
    if (user.role === "admin" && role !== "admin") await refuseLastAdmin(tx, user);
    return (await tx.update(users).set({ role }).where(eq(users.id, user.id)).returning())[0];
  });
  if (!row) throw new InputError(`no such user`);
  await audit(db, actor, { action: "user.role", target: user.name, details: { from: user.role, to: role } });
  return toInfo(row);
}

/**
 * Inside the transaction that demotes or removes `user`: locks the admin rows, so two admins
 * removing each other at once cannot both pass the check (one waits, then sees the other's change).
 */
async function refuseLastAdmin(tx: Parameters<Parameters<Db["transaction"]>[0]>[0], user: UserRow): Promise<void> {
  const admins = await tx.select({ id: users.id }).from(users).where(eq(users.role, "admin")).for("update");
  if (admins.length <= 1 && admins.some((a) => a.id === user.id)) {
    throw new InputError(`${user.name} is the last admin; make another admin first`);
  }
}

/** Removes the user; their sessions go with them (foreign key), their tokens are revoked. */
export async function removeUser(db: Db, actor: Actor, name: string): Promise<void> {
  const user = await findUser(db, name);
  if (!user) throw new InputError(`no such user`);
  await db.transaction(async (tx) => {
    if (user.role === "admin") await refuseLastAdmin(tx, user);
    await tx.execute(sql`update api_tokens set revoked_at = now() where created_by = ${user.id} and revoked_at is null`);
    await tx.delete(users).where(eq(users.id, user.id));
  });
  await audit(db, actor, { action: "user.remove", target: user.name });
}
