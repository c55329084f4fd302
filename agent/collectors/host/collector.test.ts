// Checks the shared read and number helpers: missing is null, anything else fails with the path.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { counter, readKernelFile } from "./collector.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("readKernelFile: a missing file is null, so the collector can report nothing rather than fail", () => {
  expect(readKernelFile(join(dir, "proc", "stat"))).toBeNull();
});

test("readKernelFile: any other failure carries the path and the error code", () => {
  const path = join(dir, "stat");
  mkdirSync(path);
  expect(() => readKernelFile(path)).toThrow(`failed to read ${path}: EISDIR`);
});

test("counter accepts what the kernel prints and nothing else", () => {
  expect(counter("/proc/x", "42", "field")).toBe(42);
  expect(counter("/proc/x", "0.25", "field")).toBe(0.25);
  for (const bad of ["", "-1", "0x1f", "1e3", undefined]) {
    expect(() => counter("/proc/x", bad, "field")).toThrow("failed to parse /proc/x: field is");
  }
});
