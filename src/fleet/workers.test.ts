import { expect, test } from "bun:test";
import { workerStatus } from "./workers.ts";

test("worker status: online, stale, offline by the age of the last sample and the interval", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  const ago = (s: number) => new Date(now - s * 1000);
  expect(workerStatus(null, 1, now)).toBe("never-seen");
  expect(workerStatus(ago(4), 1, now)).toBe("online"); // within the 5 s grace
  expect(workerStatus(ago(6), 1, now)).toBe("stale");
  expect(workerStatus(ago(59), 1, now)).toBe("stale");
  expect(workerStatus(ago(61), 1, now)).toBe("offline");
  // A slow agent (30 s interval) is judged by its own interval.
  expect(workerStatus(ago(80), 30, now)).toBe("online");
  expect(workerStatus(ago(200), 30, now)).toBe("stale");
  expect(workerStatus(ago(301), 30, now)).toBe("offline");
});
