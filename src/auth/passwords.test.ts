import { describe, expect, test } from "bun:test";
import {
  checkPassword,
  dummyPasswordHash,
  generatePassword,
  hashPassword,
  MAX_PASSWORD_CHARS,
  MIN_PASSWORD_CHARS,
  verifyPassword,
} from "./passwords.ts";
import { InputError } from "./text.ts";

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

describe("checkPassword", () => {
  test("the bounds are 8 and 65536 characters", () => {
    expect(MIN_PASSWORD_CHARS).toBe(8);
    expect(MAX_PASSWORD_CHARS).toBe(65_536);
  });

  test("7 characters are refused, 8 accepted", () => {
    expect(() => checkPassword("1234567")).toThrow(new InputError("password is too short (at least 8 characters)"));
    expect(() => checkPassword("1234567")).toThrow(InputError);
    expect(checkPassword("12345678")).toBe("12345678");
  });

  test("65536 characters are accepted, 65537 refused", () => {
    const max = "p".repeat(65_536);
    expect(checkPassword(max)).toBe(max);
    expect(() => checkPassword(max + "p")).toThrow(new InputError("password is too long (at most 65536 characters)"));
  });

  test("missing, empty or non-string passwords are required", () => {
    for (const v of ["", undefined, null, 12345678, ["12345678"], { length: 10 }]) {
      expect(() => checkPassword(v)).toThrow(new InputError("password is required"));
    }
  });

  test("the password is returned unchanged: no trimming, any characters", () => {
    expect(checkPassword("  spaces  ")).toBe("  spaces  ");
    expect(checkPassword("'; DROP TABLE users; --")).toBe("'; DROP TABLE users; --");
    expect(checkPassword("pässwörd🔑\u0000x")).toBe("pässwörd🔑\u0000x");
  });
});

describe("hashing", () => {
  test("hashPassword makes an argon2id hash that verifyPassword checks", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash.startsWith("$argon2id$")).toBe(true);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", hash)).toBe(false);
    expect(await verifyPassword("Correct horse battery staple", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  test("the same password hashes differently each time (salted), and both verify", async () => {
    const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same password", a)).toBe(true);
    expect(await verifyPassword("same password", b)).toBe(true);
  });

  test("verifyPassword returns false, without throwing, for a garbage hash", async () => {
    for (const garbage of ["", "not a hash", "$argon2id$", "$argon2id$v=19$m=65536,t=2,p=1$garbage", "$2b$10$short"]) {
      expect(await verifyPassword("whatever1", garbage)).toBe(false);
    }
  });

  test("the dummy hash is an argon2id hash, computed once, that no typed password matches", async () => {
    const a = await dummyPasswordHash();
    const b = await dummyPasswordHash();
    expect(a).toBe(b);
    expect(a.startsWith("$argon2id$")).toBe(true);
    expect(await verifyPassword("password", a)).toBe(false);
  });
});

describe("generatePassword", () => {
  test("20 characters from the documented alphabet, without look-alikes", () => {
    const pw = generatePassword();
    expect(pw).toHaveLength(20);
    for (const ch of pw) expect(ALPHABET).toContain(ch);
    expect(pw).not.toMatch(/[IOl01]/);
  });

  test("200 generated passwords are all distinct, valid, and use a spread of the alphabet", () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const pw = generatePassword();
      expect(pw).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz2-9]{20}$/);
      expect(checkPassword(pw)).toBe(pw);
      seen.add(pw);
      for (const ch of pw) chars.add(ch);
    }
    expect(seen.size).toBe(200);
    // 4000 draws from the alphabet: every letter class shows up, and most of the alphabet does.
    expect([...chars].some((c) => /[A-Z]/.test(c))).toBe(true);
    expect([...chars].some((c) => /[a-z]/.test(c))).toBe(true);
    expect([...chars].some((c) => /[2-9]/.test(c))).toBe(true);
    expect(chars.size).toBeGreaterThanOrEqual(50);
  });
});

test("generated passwords use every letter of the alphabet (no letter is unreachable)", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) for (const c of generatePassword()) seen.add(c);
  expect([...seen].sort().join("")).toBe([...ALPHABET].sort().join(""));
});
