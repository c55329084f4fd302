// `vigil worker|user|token|doctor` where there is no Vigil database: refused (exit 2) with where to look, nothing created; serve and migrate still create one.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runVigil, tempDir } from "../harness/process.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = tempDir("vigil-cli-data-");
  dirs.push(d);
  return d;
}

const COMMANDS = [
  ["token", "create", "--name", "grafana", "--role", "viewer"],
  ["user", "add", "alice", "--role", "viewer"],
  ["worker", "add", "gpu-07"],
  ["worker", "list"],
  ["doctor"],
];

describe("no Vigil database where the command looks", () => {
  test("the default ./vigil-data that is not there: exit 2, one line saying where to look, nothing created", async () => {
    const cwd = dir();
    for (const args of COMMANDS) {
      const r = await runVigil(args, {}, undefined, cwd);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim()).toBe(
        `vigil ${args[0]}: no Vigil database in ./vigil-data: is the head's data directory elsewhere? pass --data-dir (a systemd head uses /var/lib/vigil) or DATABASE_URL`,
      );
      expect(existsSync(join(cwd, "vigil-data"))).toBe(false);
    }
  }, 60_000);

  test("an empty directory named by --data-dir is refused too and left empty", async () => {
    const empty = join(dir(), "data");
    mkdirSync(empty);
    const r = await runVigil(["token", "create", "--name", "x", "--role", "viewer", "--data-dir", empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no Vigil database in ${empty}`);
    expect(readdirSync(empty)).toEqual([]);
  });

  test("after vigil migrate creates the database, the same command works", async () => {
    const cwd = dir();
    const m = await runVigil(["migrate"], {}, undefined, cwd);
    expect(m.code).toBe(0);
    const r = await runVigil(["token", "create", "--name", "grafana", "--role", "viewer"], {}, undefined, cwd);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).not.toBe("");
  }, 60_000);
});
