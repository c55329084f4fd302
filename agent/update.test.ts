// Self-update against a throwaway HTTP server: a verified download replaces the target atomically, anything else leaves it alone.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test/harness/process.ts";
import { sha256Hex, startFakeHead, type FakeHead } from "../test/install/fake-head.ts";
import { isCompiledBinary, isNewer, selfUpdate, sha256File } from "./update.ts";

const PATH = "/download/vigil-linux-x64";
const OLD = "#!/bin/sh\necho old\n";
const NEW = "#!/bin/sh\necho new\n".repeat(50_000); // ~1 MiB: several chunks on the wire

let head: FakeHead;
let dir = "";
let target = "";
const lines: string[] = [];
const log = { info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`) };

beforeAll(() => {
  head = startFakeHead();
});
afterAll(() => head.stop());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
  head.requests.length = 0;
  lines.length = 0;
});

function freshTarget(): void {
  dir = tempDir("vigil-update-");
  target = join(dir, "vigil");
  writeFileSync(target, OLD);
  chmodSync(target, 0o644);
}

test("a download matching the announced sha256 replaces the target by rename: new content, mode 0755, nothing left over", async () => {
  freshTarget();
  head.serve(NEW);
  const before = statSync(target);
  expect(await selfUpdate({ head: head.url, path: PATH, sha256: sha256Hex(NEW), target, log })).toBe("updated");
  const after = statSync(target);
  expect(readFileSync(target, "utf8")).toBe(NEW);
  expect(after.mode & 0o777).toBe(0o755);
  // A new inode: the old file was swapped out whole, never written over in place.
  expect(after.ino).not.toBe(before.ino);
  expect(readdirSync(dir)).toEqual(["vigil"]);
  expect(head.requests).toEqual([`GET ${PATH}`]);
  expect(lines.at(-1)).toStartWith("info self-update installed");
});

test("a download that does not match is refused and deleted; the target is untouched", async () => {
  freshTarget();
  head.serve(NEW);
  const before = statSync(target);
  const wrong = sha256Hex("something else");
  await expect(selfUpdate({ head: head.url, path: PATH, sha256: wrong, target, log })).rejects.toThrow(
    new RegExp(`refused: .* has sha256 ${sha256Hex(NEW)}, the head announced ${wrong}; ${target} was left as it was`),
  );
  expect(readFileSync(target, "utf8")).toBe(OLD);
  expect(statSync(target).ino).toBe(before.ino);
  expect(statSync(target).mode & 0o777).toBe(0o644);
  expect(readdirSync(dir)).toEqual(["vigil"]);
});

test("the same build is skipped without downloading anything", async () => {
  freshTarget();
  head.serve(OLD);
  expect(await selfUpdate({ head: head.url, path: PATH, sha256: sha256Hex(OLD).toUpperCase(), target, log })).toBe("skipped");
  expect(head.requests).toEqual([]);
  expect(lines).toEqual(["info self-update skipped: already this build"]);
});

test("an error from the head fails with its status, and leaves no temp file", async () => {
  freshTarget();
  await expect(selfUpdate({ head: head.url, path: "/download/nothing-here", sha256: sha256Hex(NEW), target, log })).rejects.toThrow(
    /GET http:\/\/127\.0\.0\.1:\d+\/download\/nothing-here answered 404/,
  );
  expect(readdirSync(dir)).toEqual(["vigil"]);
  expect(readFileSync(target, "utf8")).toBe(OLD);
});

test("only a path on the head is fetched, and only a real sha256 is accepted", async () => {
  freshTarget();
  const sha = sha256Hex(NEW);
  for (const path of ["http://evil.example/vigil", "//evil.example/vigil", "download/x"]) {
    await expect(selfUpdate({ head: head.url, path, sha256: sha, target, log })).rejects.toThrow(/is not a path on the head/);
  }
  await expect(selfUpdate({ head: head.url, path: PATH, sha256: "abc", target, log })).rejects.toThrow(/not a sha256/);
  expect(head.requests).toEqual([]);
});

test("a missing target is installed; an unwritable directory fails with the path in the message", async () => {
  dir = tempDir("vigil-update-");
  head.serve(NEW);
  const fresh = join(dir, "vigil");
  expect(await selfUpdate({ head: head.url, path: PATH, sha256: sha256Hex(NEW), target: fresh, log })).toBe("updated");
  expect(await sha256File(fresh)).toBe(sha256Hex(NEW));
  const missingDir = join(dir, "no-such-dir", "vigil");
  await expect(selfUpdate({ head: head.url, path: PATH, sha256: sha256Hex(NEW), target: missingDir, log })).rejects.toThrow(
    `cannot write beside ${missingDir}`,
  );
});

test("from source, with no target given, there is nothing to replace: skipped", async () => {
  expect(isCompiledBinary()).toBe(false);
  expect(isCompiledBinary("/$bunfs/root/vigil")).toBe(true);
  expect(await selfUpdate({ head: head.url, path: PATH, sha256: sha256Hex(NEW), log })).toBe("skipped");
  expect(head.requests).toEqual([]);
  expect(lines[0]).toContain("running from source");
});

test("isNewer compares versions by semver precedence; what does not parse is never newer", () => {
  expect(isNewer("0.2.0", "0.1.9")).toBe(true);
  expect(isNewer("0.10.0", "0.9.0")).toBe(true);
  expect(isNewer("1.0.0", "1.0.0")).toBe(false);
  expect(isNewer("0.1.0", "0.2.0")).toBe(false);
  expect(isNewer("v1.2.3", "1.2.2")).toBe(true);
  expect(isNewer("1.2", "1.1.9")).toBe(true);
  expect(isNewer("1.0.0", "1.0.0-rc.1")).toBe(true);
  expect(isNewer("1.0.0-rc.1", "1.0.0")).toBe(false);
  expect(isNewer("1.0.0-rc.10", "1.0.0-rc.9")).toBe(true);
  expect(isNewer("1.0.0-rc.1", "1.0.0-beta.2")).toBe(true);
  expect(isNewer("1.0.0-alpha.1", "1.0.0-alpha")).toBe(true);
  expect(isNewer("1.0.0+build.5", "1.0.0+build.4")).toBe(false);
  expect(isNewer("source", "0.1.0")).toBe(false);
  expect(isNewer("1.0.0", "garbage")).toBe(false);
});
