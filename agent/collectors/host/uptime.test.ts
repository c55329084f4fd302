// Checks uptime against a real /proc/uptime.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseUptime, uptimeCollector } from "./uptime.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

test("parseUptime reads seconds since boot, not the summed idle time", () => {
  expect(parseUptime(readFileSync(join(PROC, "uptime"), "utf8"))).toBe(309.51);
});

test("parseUptime names the file when the text is not an uptime", () => {
  expect(() => parseUptime("")).toThrow('failed to parse /proc/uptime: uptime is ""');
});

test("uptimeCollector: a missing /proc/uptime is null", () => {
  expect(uptimeCollector().collect(ctx("/nonexistent"))).toEqual({ uptimeSeconds: null });
});
