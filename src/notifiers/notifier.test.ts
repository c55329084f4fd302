import { describe, expect, test } from "bun:test";
import { DeliveryError, describeFailure, isRetryableStatus } from "./notifier.ts";

describe("describeFailure", () => {
  test("status, reason and the start of the body, on one line", () => {
    expect(describeFailure(new Response(null, { status: 500, statusText: "Internal Server Error" }), "boom\n  at line 2")).toBe(
      "HTTP 500 Internal Server Error: boom at line 2",
    );
    expect(describeFailure(new Response(null, { status: 502 }), "  ")).toBe("HTTP 502");
    const long = "x".repeat(500);
    expect(describeFailure(new Response(null, { status: 400, statusText: "Bad Request" }), long)).toBe(
      `HTTP 400 Bad Request: ${"x".repeat(200)}…`,
    );
  });

  test("retryable statuses", () => {
    expect([200, 400, 401, 404, 408, 410, 429, 500, 503].filter(isRetryableStatus)).toEqual([408, 429, 500, 503]);
  });

  test("DeliveryError keeps what it is given", () => {
    const e = new DeliveryError("webhook https://x: HTTP 503", { retryable: true, status: 503, body: "down", retryAfterSeconds: 5 });
    expect([e.name, e.status, e.body, e.retryable, e.retryAfterSeconds]).toEqual(["DeliveryError", 503, "down", true, 5]);
    expect(new DeliveryError("x", { retryable: false })).not.toHaveProperty("status");
  });
});
