import { describe, expect, test } from "bun:test";
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from "./ratelimit.ts";

const MIN = 60_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");

describe("LoginLimiter", () => {
  test("the default policy is 5 failures per account and 20 per address in 15 minutes", () => {
    expect(DEFAULT_LOGIN_LIMITS).toEqual({ perAccount: 5, perAddress: 20, windowMs: 15 * MIN });
  });

  test("a fresh limiter allows everyone", () => {
    const l = new LoginLimiter();
    expect(l.check("alice", "10.0.0.1", T0)).toEqual({ allowed: true });
  });

  test("5 failures of one account within 15 minutes refuse the 6th attempt with reason account", () => {
    const l = new LoginLimiter();
    // One failure a minute, t = 0..4 min.
    for (let i = 0; i < 5; i++) {
      expect(l.check("alice", "10.0.0.1", T0 + i * MIN)).toEqual({ allowed: true });
      l.fail("alice", "10.0.0.1", T0 + i * MIN);
    }
    // At 5 min the oldest failure (t=0) leaves the window at 15 min: 600 s to wait.
    expect(l.check("alice", "10.0.0.1", T0 + 5 * MIN)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 600 });
    // The account is refused from any address, not only the one that failed.
    expect(l.check("alice", "192.0.2.9", T0 + 5 * MIN)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 600 });
    // Rounded up to whole seconds.
    expect(l.check("alice", "10.0.0.1", T0 + 5 * MIN + 1)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 600 });
    expect(l.check("alice", "10.0.0.1", T0 + 5 * MIN + 1000)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 599 });
    // Other accounts are not affected.
    expect(l.check("bob", "10.0.0.1", T0 + 5 * MIN)).toEqual({ allowed: true });
  });

  test("4 failures do not lock the account", () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 4; i++) l.fail("alice", "10.0.0.1", T0 + i);
    expect(l.check("alice", "10.0.0.1", T0 + 10)).toEqual({ allowed: true });
  });

  test("the window slides: each failure stops counting windowMs after it happened", () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 5; i++) l.fail("alice", "10.0.0.1", T0 + i * MIN);
    // Just before the first failure ages out: still refused, 1 s to go.
    expect(l.check("alice", "10.0.0.1", T0 + 15 * MIN - 1000)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 1 });
    // Exactly windowMs after the first failure: only 4 are in the window.
    expect(l.check("alice", "10.0.0.1", T0 + 15 * MIN)).toEqual({ allowed: true });
    // One more failure now locks it again, until the failure at t=1 min ages out (at 16 min).
    l.fail("alice", "10.0.0.1", T0 + 15 * MIN);
    expect(l.check("alice", "10.0.0.1", T0 + 15 * MIN)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 60 });
    expect(l.check("alice", "10.0.0.1", T0 + 16 * MIN)).toEqual({ allowed: true });
    // Long after all of them: everything forgotten.
    expect(l.check("alice", "10.0.0.1", T0 + 60 * MIN)).toEqual({ allowed: true });
  });

  test("password spraying: 20 failures from one address over many account names refuse that address", () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 20; i++) {
      expect(l.check(`user${i}`, "203.0.113.7", T0 + i * 1000)).toEqual({ allowed: true });
      l.fail(`user${i}`, "203.0.113.7", T0 + i * 1000);
    }
    // No account has more than one failure, but the address is spent until its first failure ages out.
    expect(l.check("someone-new", "203.0.113.7", T0 + 20_000)).toEqual({ allowed: false, reason: "address", retryAfterSeconds: 900 - 20 });
    expect(l.check("user0", "203.0.113.7", T0 + 20_000)).toMatchObject({ allowed: false, reason: "address" });
    // The same account names from another address are fine.
    expect(l.check("someone-new", "203.0.113.8", T0 + 20_000)).toEqual({ allowed: true });
    expect(l.check("user0", "203.0.113.8", T0 + 20_000)).toEqual({ allowed: true });
    // The address window slides too.
    expect(l.check("someone-new", "203.0.113.7", T0 + 15 * MIN)).toEqual({ allowed: true });
  });

  test("the account limit is reported before the address limit when both are exceeded", () => {
    const l = new LoginLimiter({ perAccount: 2, perAddress: 2, windowMs: MIN });
    l.fail("alice", "10.0.0.1", T0);
    l.fail("alice", "10.0.0.1", T0);
    expect(l.check("alice", "10.0.0.1", T0)).toMatchObject({ allowed: false, reason: "account" });
    expect(l.check("bob", "10.0.0.1", T0)).toMatchObject({ allowed: false, reason: "address" });
  });

  test("succeed() clears the account's failures but not the address's", () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 5; i++) l.fail("alice", "10.0.0.1", T0 + i);
    expect(l.check("alice", "10.0.0.1", T0 + 10)).toMatchObject({ allowed: false, reason: "account" });
    l.succeed("alice");
    expect(l.check("alice", "10.0.0.1", T0 + 10)).toEqual({ allowed: true });

    // The address still carries those 5 failures: 15 more (on other names) exhaust it.
    for (let i = 0; i < 15; i++) l.fail(`spray${i}`, "10.0.0.1", T0 + 20 + i);
    expect(l.check("alice", "10.0.0.1", T0 + 100)).toMatchObject({ allowed: false, reason: "address" });
    // Succeeding on the account does not lift the address limit.
    l.succeed("alice");
    expect(l.check("alice", "10.0.0.1", T0 + 100)).toMatchObject({ allowed: false, reason: "address" });
    expect(l.check("alice", "10.0.0.2", T0 + 100)).toEqual({ allowed: true });
  });

  test("succeed() on one account leaves other accounts' failures alone", () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 5; i++) {
      l.fail("alice", "10.0.0.1", T0);
      l.fail("bob", "10.0.0.2", T0);
    }
    l.succeed("alice");
    expect(l.check("alice", "10.0.0.1", T0)).toEqual({ allowed: true });
    expect(l.check("bob", "10.0.0.2", T0)).toMatchObject({ allowed: false, reason: "account" });
  });

  test("account names are compared exactly (no case folding, no collision with address keys)", () => {
    const l = new LoginLimiter({ perAccount: 1, perAddress: 100, windowMs: MIN });
    l.fail("Alice", "10.0.0.1", T0);
    expect(l.check("Alice", "10.0.0.9", T0)).toMatchObject({ allowed: false, reason: "account" });
    expect(l.check("alice", "10.0.0.9", T0)).toEqual({ allowed: true });
    // An account named like the address is a different counter.
    expect(l.check("10.0.0.1", "10.0.0.9", T0)).toEqual({ allowed: true });
  });

  test("a custom policy is honoured", () => {
    const l = new LoginLimiter({ perAccount: 2, perAddress: 3, windowMs: 10_000 });
    l.fail("alice", "10.0.0.1", T0);
    expect(l.check("alice", "10.0.0.1", T0 + 1000)).toEqual({ allowed: true });
    l.fail("alice", "10.0.0.1", T0 + 1000);
    expect(l.check("alice", "10.0.0.1", T0 + 2000)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 8 });
    expect(l.check("alice", "10.0.0.1", T0 + 10_000)).toEqual({ allowed: true });

    // Address: 3 failures in 10 s.
    l.fail("x", "10.0.0.5", T0);
    l.fail("y", "10.0.0.5", T0 + 500);
    expect(l.check("z", "10.0.0.5", T0 + 600)).toEqual({ allowed: true });
    l.fail("z", "10.0.0.5", T0 + 700);
    expect(l.check("w", "10.0.0.5", T0 + 1000)).toEqual({ allowed: false, reason: "address", retryAfterSeconds: 9 });
    expect(l.check("w", "10.0.0.5", T0 + 10_000)).toEqual({ allowed: true });
  });

  test("past the limit, the wait runs until enough failures age out (not just the oldest)", () => {
    const l = new LoginLimiter({ perAccount: 5, perAddress: 100, windowMs: 10 * 60_000 });
    // 8 failures a minute apart (the limiter does not refuse fail(); the route uses attempt()).
    for (let i = 0; i < 8; i++) l.fail("bob", `10.1.0.${i}`, T0 + i * 60_000);
    const now = T0 + 7 * 60_000;
    // 5 must remain below the limit: the 4th failure (minute 3) must age out, at minute 13.
    expect(l.check("bob", "10.9.9.9", now)).toEqual({ allowed: false, reason: "account", retryAfterSeconds: 360 });
    expect(l.check("bob", "10.9.9.9", T0 + 13 * 60_000 - 1000).allowed).toBe(false);
    expect(l.check("bob", "10.9.9.9", T0 + 13 * 60_000 + 1).allowed).toBe(true);
  });

  test("attempt() counts before the password is checked, so parallel guesses cannot pass the limit", () => {
    const l = new LoginLimiter({ perAccount: 5, perAddress: 100, windowMs: 60_000 });
    const attempts = Array.from({ length: 50 }, () => l.attempt("carol", "10.2.0.1", T0));
    expect(attempts.filter((a) => a.verdict.allowed)).toHaveLength(5);
    // A right password takes its own attempt back and clears the account.
    const l2 = new LoginLimiter({ perAccount: 5, perAddress: 3, windowMs: 60_000 });
    const a = l2.attempt("dave", "10.2.0.2", T0);
    a.succeeded();
    l2.attempt("x", "10.2.0.2", T0).verdict;
    l2.attempt("y", "10.2.0.2", T0).verdict;
    expect(l2.check("dave", "10.2.0.2", T0).allowed).toBe(true); // the success did not count against the address
  });

  test("memory stays bounded under a flood of made-up names", () => {
    const l = new LoginLimiter(DEFAULT_LOGIN_LIMITS, 1000);
    for (let i = 0; i < 20_000; i++) l.fail(`user-${i}-${"x".repeat(i % 3 ? 10 : 70_000 / 10)}`, `10.3.${i % 250}.${i % 200}`, T0 + i);
    expect(l.trackedKeys).toBeLessThanOrEqual(1000);
    // The most recent offenders are still remembered.
    for (let i = 0; i < 4; i++) l.fail("mallory", "10.4.0.1", T0 + 30_000);
    l.fail("mallory", "10.4.0.1", T0 + 30_001);
    expect(l.check("mallory", "10.4.0.2", T0 + 30_002).allowed).toBe(false);
  });
});
