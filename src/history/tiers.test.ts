// Tier selection: the coarsest tier fine enough for the points asked, among those still holding the range; never more points than asked.
import { expect, test } from "bun:test";
import { planQuery } from "./tiers.ts";

const R = { raw: 86400, minute: 30 * 86400, hour: 365 * 86400, processes: 7 * 86400 };
const now = new Date("2026-11-23T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);

test.each([
  ["1 h at 1000 points: raw samples, 4 s apart", 3600, 1000, "raw", 4],
  ["10 min at 1000 points: raw at one second", 600, 1000, "raw", 1],
  ["6 h at 1000 points: raw, 22 s apart", 6 * 3600, 1000, "raw", 22],
  ["24 h at 1000 points: 1-minute rollups, 2 min apart", 86400, 1000, "1m", 120],
  ["7 d at 1000 points: 1-minute rollups, 11 min apart", 7 * 86400, 1000, "1m", 660],
  ["90 d at 1000 points: 1-hour rollups, 3 h apart", 90 * 86400, 1000, "1h", 10800],
  ["24 h at 10 points: 1-hour rollups", 86400, 10, "1h", 10800],
] as const)("%s", (_, span, points, tier, step) => {
  const p = planQuery(ago(span), now, points, R, now);
  expect(p.tier.name).toBe(tier);
  expect(p.stepSeconds).toBe(step);
});

test("a range older than raw retention is answered by the finest tier that still holds it", () => {
  const p = planQuery(ago(2 * 86400), ago(2 * 86400 - 600), 1000, R, now);
  expect(p.tier.name).toBe("1m");
  expect(p.stepSeconds).toBe(60);
  const q = planQuery(ago(40 * 86400), ago(39 * 86400), 1000, R, now);
  expect(q.tier.name).toBe("1h");
});

test("since moves back to the tier's grid, and the points never outnumber what was asked", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const span = 1 + Math.floor(rand() * 400 * 86400);
    const points = 1 + Math.floor(rand() * 5000);
    const since = ago(span + rand() * 1000);
    const p = planQuery(since, now, points, R, now);
    const res = p.tier.resolutionSeconds;
    expect(p.since.getTime() % (res * 1000)).toBe(0);
    expect(p.since.getTime()).toBeLessThanOrEqual(since.getTime());
    expect(p.stepSeconds % res).toBe(0);
    expect(Math.ceil((now.getTime() - p.since.getTime()) / 1000 / p.stepSeconds)).toBeLessThanOrEqual(points);
  }
});
