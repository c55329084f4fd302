import { describe, expect, test } from "bun:test";
import { OutboundBlocked, OutboundFailed } from "../net/outbound.ts";
import { answered, CheckCancelled, CheckTimeout, errorText, failure, neverThrows, withDeadline, worst } from "./outcome.ts";

const signal = () => new AbortController().signal;

describe("errorText", () => {
  test("system codes in words, unknown ones kept beside the message", () => {
    expect(errorText(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }))).toBe("connection refused");
    expect(errorText(Object.assign(new Error("open '/x'"), { code: "EROFS" }))).toBe("read-only file system (EROFS)");
    expect(errorText(Object.assign(new Error("strange"), { code: "EWEIRD" }))).toBe("strange (EWEIRD)");
    expect(errorText("plain")).toBe("plain");
  });

  test("outbound failures lose outboundFetch's own prefix: the caller names the request", () => {
    const refused = Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" });
    expect(errorText(new OutboundFailed("GET http://127.0.0.1:9/…: failed: Unable to connect", true, { cause: refused }))).toBe(
      "connection refused",
    );
    expect(errorText(new OutboundFailed("GET http://x/…: timed out after 200 ms", true))).toBe("timed out after 200 ms");
    expect(errorText(new OutboundFailed("cannot resolve nowhere.invalid: ENOTFOUND", true))).toBe(
      "cannot resolve nowhere.invalid: ENOTFOUND",
    );
    expect(errorText(new OutboundBlocked("10.0.0.1 is a private address", "private"))).toBe("10.0.0.1 is a private address");
  });

  test("failure puts the context first and keeps the cause in details", () => {
    const o = failure("GET http://127.0.0.1:9/health", Object.assign(new Error("x"), { code: "ECONNREFUSED" }), { url: "u" });
    expect(o).toEqual({
      status: "down",
      latencyMs: null,
      message: "GET http://127.0.0.1:9/health: connection refused",
      details: { url: "u", error: "connection refused" },
    });
  });
});

describe("withDeadline", () => {
  test("gives the work's value, or rejects at the deadline and aborts the work's signal", async () => {
    expect(await withDeadline({ timeoutMs: 1000, signal: signal() }, async () => 7)).toBe(7);
    let aborted: AbortSignal | undefined;
    const started = performance.now();
    const err = await withDeadline({ timeoutMs: 50, signal: signal() }, (s) => {
      aborted = s;
      return new Promise(() => {});
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckTimeout);
    expect((err as Error).message).toBe("no answer within 50 ms");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(aborted?.aborted).toBe(true);
  });

  test("the check's own abort cancels it, before or during the work", async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await withDeadline({ timeoutMs: 1000, signal: ac.signal }, async () => 1).catch((e: unknown) => e)).toBeInstanceOf(
      CheckCancelled,
    );
    const later = new AbortController();
    setTimeout(() => later.abort(), 20);
    const err = await withDeadline({ timeoutMs: 5000, signal: later.signal }, () => new Promise(() => {})).catch((e: unknown) => e);
    expect(errorText(err)).toBe("check cancelled");
  });

  test("a work that throws rejects with its own error", async () => {
    const err = await withDeadline({ timeoutMs: 1000, signal: signal() }, async () => {
      throw new Error("boom");
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("boom");
  });
});

describe("outcomes", () => {
  test("answered: healthy within the bound, degraded beyond it, saying so", () => {
    expect(answered(35.04, { degradedLatencyMs: null }, "HTTP 200 in 35 ms")).toEqual({
      status: "healthy",
      latencyMs: 35,
      message: "HTTP 200 in 35 ms",
      details: {},
    });
    const slow = answered(350, { degradedLatencyMs: 200 }, "HTTP 200 in 350 ms");
    expect(slow.status).toBe("degraded");
    expect(slow.message).toBe("HTTP 200 in 350 ms, slower than 200 ms");
  });

  test("worst of several statuses", () => {
    expect(worst()).toBe("healthy");
    expect(worst("healthy", "degraded")).toBe("degraded");
    expect(worst("degraded", "down", "healthy")).toBe("down");
  });

  test("neverThrows turns a bug into a down outcome naming the check", async () => {
    const o = await neverThrows("GET http://x/", async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    expect(o.status).toBe("down");
    expect(o.message).toBe("GET http://x/: cannot read properties of undefined");
  });
});
