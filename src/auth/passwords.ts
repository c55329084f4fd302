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

/** Letters and digits without look-alikes (no I, O, l, 0, 1): 57 characters. */
export const PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** 20 characters of PASSWORD_ALPHABET: about 116 bits. */
export function generatePassword(): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n); // bytes at or above this would favour the first letters
  let out = "";
  while (out.length < 20) {
    for (const b of randomBytes(32)) {
      if (b < limit) out += PASSWORD_ALPHABET[b % n];
      if (out.length === 20) break;
    }
  }
  return out;
}
