// The account operations the command line offers (users and tokens), one registry used directly or through the head's admin socket.
import type { Db } from "../db/client.ts";
import type { Actor } from "../auth/audit.ts";
import { generatePassword } from "../auth/passwords.ts";
import { InputError } from "../auth/text.ts";
import { createToken, listTokens, revokeToken } from "../auth/tokens.ts";
import { addUser, listUsers, removeUser, setPassword, setRole } from "../auth/users.ts";
import { addWorker, removeWorker, revokeWorker, rotateWorker } from "../fleet/enrollment.ts";
import { listWorkers } from "../fleet/workers.ts";
import { preflightFromDatabase } from "../health/preflight.ts";

type Args = Record<string, unknown>;

/** Where workers reach the head that runs an operation: its VIGIL_PUBLIC_URL, else its host name and listen port. */
export interface HeadAddress {
  workerUrl: string;
  /** The head has a VIGIL_PUBLIC_URL; otherwise the host name is the head's best guess. */
  configured: boolean;
}

/** `head`: known when a running head runs the operation (through its admin socket). */
type Operation = (db: Db, actor: Actor, args: Args, head?: HeadAddress) => Promise<unknown>;

const str = (args: Args, key: string): string => {
  const v = args[key];
  if (typeof v !== "string") throw new InputError(`${key} is required`);
  return v;
};

export const OPERATIONS = {
  "user.add": async (db, actor, args) => {
    const given = typeof args.password === "string" ? args.password : undefined;
    const password = given ?? generatePassword();
    const user = await addUser(db, actor, { name: args.name, role: args.role, password });
    return { user, generatedPassword: given === undefined ? password : undefined };
  },
  "user.passwd": async (db, actor, args) => {
    const given = typeof args.password === "string" ? args.password : undefined;
    const password = given ?? generatePassword();
    const user = await setPassword(db, actor, str(args, "name"), password);
    return { user, generatedPassword: given === undefined ? password : undefined };
  },
  "user.role": async (db, actor, args) => ({ user: await setRole(db, actor, str(args, "name"), args.role) }),
  "user.remove": async (db, actor, args) => {
    await removeUser(db, actor, str(args, "name"));
    return {};
  },
  "user.list": async (db) => ({ users: await listUsers(db) }),
  "token.create": async (db, actor, args) => {
    const seconds = typeof args.expiresSeconds === "number" ? args.expiresSeconds : undefined;
    return createToken(db, actor, { name: args.name, role: args.role, expiresAt: seconds ? new Date(Date.now() + seconds * 1000) : null });
  },
  "token.list": async (db) => ({ tokens: await listTokens(db) }),
  "token.revoke": async (db, actor, args) => {
    const id = Number(args.id);
    if (!Number.isInteger(id) || id < 1) throw new InputError("token id must be a positive number (see vigil token list)");
    return { token: await revokeToken(db, actor, id) };
  },
  "preflight.report": async (db) => preflightFromDatabase(db),
  // The install line needs the head's address, which only the head itself knows for sure.
  "worker.add": async (db, actor, args, head) => ({ ...(await addWorker(db, actor, args.name)), head }),
  "worker.rotate": async (db, actor, args, head) => ({ ...(await rotateWorker(db, actor, args.name)), head }),
  "worker.revoke": async (db, actor, args) => {
    await revokeWorker(db, actor, args.name);
    return {};
  },
  "worker.remove": async (db, actor, args) => {
    await removeWorker(db, actor, args.name);
    return {};
  },
  "worker.list": async (db) => ({ workers: await listWorkers(db) }),
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

export function isOperation(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}
