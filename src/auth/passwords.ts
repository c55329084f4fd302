// Password hashing (Bun.password, argon2id), the password rules, and generated one-time passwords.
import { randomBytes } from "node:crypto";
import { InputError } from "./text.ts";

export const MIN_PASSWORD_CHARS = 8;
/** Long enough for any passphrase or manager; bounded so a request cannot make the head hash megabytes. */
export const MAX_PASSWORD_CHARS = 65_536;

export function checkPassword(pw: unknown): string {
  if (typeof pw !== "string" || pw.length === 0) throw new InputError("password is required");
  if (pw.length < MIN_PASSWORD_CHARS) throw new InputError(`password is too short (at least ${MIN_PASSWORD_CHARS} characters)`);
  if (pw.length > MAX_PASSWORD_CHARS) throw new InputError(`password is too long (at most ${MAX_PASSWORD_CHARS} characters)`);
  return pw;
}

export function hashPassword(pw: string): Promise<string> {
  return Bun.password.hash(pw, { algorithm: "argon2id" });
}

export async function verifyPassword(pw: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(pw, hash);
  } catch {
    return false;
  }
}

/** A hash of a random password, verified against when the account does not exist, so timing does not tell. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(generatePassword());
  return dummyHash;
}

/** 20 characters from a 56-letter alphabet without look-alikes: about 116 bits. */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = randomBytes(40);
  let out = "";
  for (const b of bytes) {
    if (b < 224) out += alphabet[b % 56]; // 224 = 4 * 56: no modulo bias
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}
