// Checks the hostname read and its fallback.
import { expect, test } from "bun:test";
import { hostname } from "node:os";
import { join } from "node:path";
import { hostnameCollector, parseHostname } from "./hostname.ts";

const PROC = join(import.meta.dir, "../../../test/fixtures/proc");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

test("hostnameCollector reads the kernel's hostname under the proc root", () => {
  expect(hostnameCollector().collect(ctx(PROC))).toEqual({ hostname: "vm" });
});

test("hostnameCollector falls back to the OS's name when the file is missing", () => {
  expect(hostnameCollector().collect(ctx("/nonexistent"))).toEqual({ hostname: hostname() });
});

test("parseHostname trims the newline and rejects an empty name", () => {
  expect(parseHostname("gpu-node-07\n")).toBe("gpu-node-07");
  expect(() => parseHostname("\n")).toThrow("failed to parse /proc/sys/kernel/hostname: empty");
});
