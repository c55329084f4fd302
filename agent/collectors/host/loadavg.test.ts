// Checks load averages against a real /proc/loadavg.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavgCollector, parseLoadavg } from "./loadavg.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

test("parseLoadavg reads the 1, 5 and 15 minute loads", () => {
  expect(parseLoadavg(readFileSync(join(PROC, "loadavg"), "utf8"))).toEqual([0.23, 0.16, 0.08]);
});

test("parseLoadavg names the file when the text is not a load line", () => {
  expect(() => parseLoadavg("0.5\n")).toThrow('failed to parse /proc/loadavg: expected 3 load values, got "0.5"');
  expect(() => parseLoadavg("0.5 high 0.1 1/2 3\n")).toThrow('failed to parse /proc/loadavg: 5-minute load is "high"');
});

test("loadavgCollector: a missing /proc/loadavg is null", () => {
  expect(loadavgCollector().collect(ctx("/nonexistent"))).toEqual({ load: null });
  expect(loadavgCollector().collect(ctx(PROC))).toEqual({ load: [0.23, 0.16, 0.08] });
});
