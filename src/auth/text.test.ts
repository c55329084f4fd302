import { describe, expect, test } from "bun:test";
import { cleanName, clip, InputError, MAX_NAME_CHARS } from "./text.ts";

describe("cleanName", () => {
  test("trims surrounding whitespace", () => {
    expect(cleanName("  alice  ", "user name")).toBe("alice");
    expect(cleanName("\t bob \r\n", "user name")).toBe("bob");
    expect(cleanName("ci bot", "token name")).toBe("ci bot"); // inner spaces stay
  });

  test("refuses missing, empty and whitespace-only names, naming the field", () => {
    for (const v of ["", "   ", "\t\n", "\u00a0\u2003", undefined, null, 42, {}, ["alice"]]) {
      expect(() => cleanName(v, "user name")).toThrow(new InputError("user name is required"));
    }
    expect(() => cleanName("", "token name")).toThrow("token name is required");
  });

  test("refuses control characters inside the name", () => {
    for (const v of [
      "a\u0000b",
      "a\nb",
      "a\rb",
      "a\tb",
      "a\u001bb",
      "a\u007fb",
      "a\u0085b",
      "a\u009fb",
      "a\u2028b",
      "a\u2029b",
      "\u0000",
    ]) {
      expect(() => cleanName(v, "user name")).toThrow(new InputError("user name may not contain control or text-direction characters"));
    }
    // Refused wherever it sits, when trimming does not remove it.
    expect(() => cleanName("\u0000alice", "user name")).toThrow(InputError);
    expect(() => cleanName("alice\u0000", "user name")).toThrow(InputError);
  });

  test("accepts SQL and HTML metacharacters and unicode unchanged", () => {
    for (const v of [
      `'; DROP TABLE users; --`,
      `" OR 1=1 --`,
      `back\\slash\\\\`,
      `<script>alert(1)</script>`,
      `%_*?$1`,
      `ünïcödé 名前 🔑`,
      `a\u00a0b`,
    ]) {
      expect(cleanName(v, "user name")).toBe(v);
    }
  });

  test("accepts exactly 65536 characters unchanged and refuses one more", () => {
    expect(MAX_NAME_CHARS).toBe(65_536);
    const max = "x".repeat(65_536);
    expect(cleanName(max, "user name")).toBe(max);
    expect(() => cleanName(max + "x", "user name")).toThrow(new InputError("user name is too long (at most 65536 characters)"));
    // The limit applies after trimming.
    expect(cleanName(`  ${max}  `, "user name")).toBe(max);
  });

  test("errors are InputErrors", () => {
    try {
      cleanName("", "user name");
      throw new Error("not reached");
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).name).toBe("InputError");
    }
  });
});

describe("clip", () => {
  test("leaves short text alone", () => {
    expect(clip("alice")).toBe("alice");
    expect(clip("")).toBe("");
    expect(clip("x".repeat(80))).toBe("x".repeat(80));
  });

  test("cuts long text and says how long it was", () => {
    expect(clip("x".repeat(81))).toBe(`${"x".repeat(80)}… (81 chars)`);
    expect(clip("x".repeat(65_536))).toBe(`${"x".repeat(80)}… (65536 chars)`);
    expect(clip("abcdefghij", 3)).toBe("abc… (10 chars)");
    expect(clip("abc", 3)).toBe("abc");
  });
});

test("text-direction overrides are refused, and clip() never splits a character", () => {
  expect(() => cleanName("admin\u202Etxt.exe", "user name")).toThrow(InputError);
  expect(() => cleanName("a\u2066b", "user name")).toThrow(InputError);
  const emoji = "🙂".repeat(100);
  const clipped = clip(emoji, 10);
  expect(clipped).toBe(`${"🙂".repeat(10)}… (100 chars)`);
  expect(clipped.isWellFormed()).toBe(true);
});
