// Uptime arithmetic: degraded weight, open windows, windows crossing the range's edges, unknown time, incidents.
import { describe, expect, test } from "bun:test";
import { incidents, segments, uptime, type StatusWindow } from "./uptime.ts";

const H = 3600_000;
const D = 24 * H;

describe("uptime", () => {
  test("healthy, degraded at half weight, and down over a fully known day", () => {
    const w: StatusWindow[] = [
      { status: "healthy", startedAt: 0, endedAt: 20 * H },
      { status: "degraded", startedAt: 20 * H, endedAt: 22 * H },
      { status: "down", startedAt: 22 * H, endedAt: 23 * H },
      { status: "healthy", startedAt: 23 * H, endedAt: null },
    ];
    const u = uptime(w, 0, D, D);
    expect({ ...u, percent: 0 }).toEqual({ percent: 0, healthyMs: 21 * H, degradedMs: 2 * H, downMs: H, unknownMs: 0 });
    expect(u.percent).toBeCloseTo(((21 + 1) / 24) * 100, 10);
    expect(uptime(w, 0, D, D, 1).percent).toBeCloseTo((23 / 24) * 100, 10);
    expect(uptime(w, 0, D, D, 0).percent).toBeCloseTo((21 / 24) * 100, 10);
  });

  test("windows crossing the range's edges count only their inside part", () => {
    const w: StatusWindow[] = [
      { status: "down", startedAt: -5 * H, endedAt: 2 * H }, // starts before the range
      { status: "healthy", startedAt: 2 * H, endedAt: 30 * H }, // ends after it
    ];
    const u = uptime(w, 0, D, 40 * H);
    expect([u.downMs, u.healthyMs, u.unknownMs]).toEqual([2 * H, 22 * H, 0]);
    expect(u.percent).toBeCloseTo((22 / 24) * 100, 10);
  });

  test("an open window ends now, and the future is not counted", () => {
    const w: StatusWindow[] = [{ status: "down", startedAt: 10 * H, endedAt: null }];
    const u = uptime(w, 0, D, 12 * H);
    expect([u.downMs, u.unknownMs, u.percent]).toEqual([2 * H, 10 * H, 0]);
  });

  test("time before the first check is unknown, not down; no known time gives no percentage", () => {
    expect(uptime([{ status: "healthy", startedAt: 18 * H, endedAt: null }], 0, D, D)).toEqual({
      percent: 100,
      healthyMs: 6 * H,
      degradedMs: 0,
      downMs: 0,
      unknownMs: 18 * H,
    });
    expect(uptime([], 0, D, D).percent).toBeNull();
    expect(uptime([{ status: "healthy", startedAt: 2 * D, endedAt: null }], 0, D, 3 * D).percent).toBeNull();
  });
});

describe("timeline and incidents", () => {
  const w: StatusWindow[] = [
    { status: "healthy", startedAt: 0, endedAt: 5 * H },
    { status: "down", startedAt: 5 * H, endedAt: 6 * H, message: "connection refused" },
    { status: "healthy", startedAt: 6 * H, endedAt: 9 * H },
    { status: "degraded", startedAt: 9 * H, endedAt: null, message: "HTTP 200 in 2400 ms" },
  ];

  test("segments are clipped, oldest first, and say which go on", () => {
    expect(segments(w, 4 * H, 10 * H, 12 * H).map((s) => [s.status, s.from / H, s.to / H, s.ongoing])).toEqual([
      ["healthy", 4, 5, false],
      ["down", 5, 6, false],
      ["healthy", 6, 9, false],
      ["degraded", 9, 10, true],
    ]);
  });

  test("incidents: the non-healthy windows overlapping the range, newest first, with their whole duration", () => {
    expect(incidents(w, 0, D, 12 * H).map((i) => [i.status, i.durationMs / H, i.message])).toEqual([
      ["degraded", 3, "HTTP 200 in 2400 ms"],
      ["down", 1, "connection refused"],
    ]);
    expect(incidents(w, 10 * H, D, 12 * H).map((i) => i.status)).toEqual(["degraded"]);
  });
});
