// Checks how counter readings become per-second rates when devices come, go or reset.
import { expect, test } from "bun:test";
import { bytesPerSecond } from "./rates.ts";

const reading = (atMs: number, counters: Record<string, [number, number]>) => ({
  atMs,
  counters: new Map(Object.entries(counters)),
});

test("sums per-device deltas over the elapsed seconds", () => {
  const prev = reading(1000, { a: [100, 1000], b: [0, 0] });
  const cur = reading(3000, { a: [300, 5000], b: [50, 10] });
  expect(bytesPerSecond(prev, cur)).toEqual([125, 2005]);
});

test("a device that reset, appeared or vanished sits out the interval instead of skewing it", () => {
  const prev = reading(0, { steady: [100, 100], reset: [9000, 9000], gone: [5, 5] });
  const cur = reading(1000, { steady: [200, 300], reset: [10, 10], added: [7000, 7000] });
  expect(bytesPerSecond(prev, cur)).toEqual([100, 200]);
});

test("null when no time passed or no device could be measured", () => {
  expect(bytesPerSecond(reading(5, { a: [1, 1] }), reading(5, { a: [2, 2] }))).toBeNull();
  expect(bytesPerSecond(reading(0, { a: [1, 1] }), reading(1000, { b: [2, 2] }))).toBeNull();
  expect(bytesPerSecond(reading(0, {}), reading(1000, {}))).toBeNull();
});
