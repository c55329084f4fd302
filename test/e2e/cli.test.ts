// The command line as a user meets it: help, version, config errors (one line, exit 2), agent --once --json, the data-dir lock.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { checkSample } from "../../src/protocol/sample.ts";

const dirs: string[] = [];
const running: VigilProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir("vigil-cli-");
  dirs.push(d);
  return d;
}

/** A config error is exactly one line on stderr, names the setting, exits 2, and shows no stack trace. */
async function expectConfigError(args: string[], env: Record<string, string>, mentions: string[]) {
  const r = await runVigil(args, env);
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  for (const m of mentions) expect(lines[0]).toContain(m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe("config errors", () => {
  test("port out of range, by flag and by environment", async () => {
    await expectConfigError(["serve", "--listen", "127.0.0.1:70000"], { VIGIL_DATA_DIR: dir() }, ["--listen", "70000", "out of range"]);
    await expectConfigError(["serve"], { VIGIL_LISTEN: "0", VIGIL_DATA_DIR: dir() }, ["VIGIL_LISTEN", "out of range"]);
  });

  test("an unusable data directory", async () => {
    const file = join(dir(), "not-a-dir");
    writeFileSync(file, "x");
    await expectConfigError(["serve", "--listen", `127.0.0.1:${freePort()}`], { VIGIL_DATA_DIR: file }, [
      "VIGIL_DATA_DIR",
      "not a directory",
    ]);
    await expectConfigError(["migrate"], { VIGIL_DATA_DIR: "/proc/vigil-data" }, ["VIGIL_DATA_DIR", "not a usable data directory"]);
  });

  test("a malformed DATABASE_URL, without its password", async () => {
    const line = await expectConfigError(["serve"], { DATABASE_URL: "http://admin:hunter2@db/vigil" }, ["DATABASE_URL", "postgres://"]);
    expect(line).not.toContain("hunter2");
    await expectConfigError(["migrate", "--database-url", "postgres://"], {}, ["--database-url", "no host"]);
  });

  test("unknown flags and commands", async () => {
    await expectConfigError(["serve", "--colour", "blue"], {}, ["--colour", "vigil serve --help"]);
    const r = await runVigil(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("vigil: unknown command 'frobnicate'; run 'vigil --help'");
  });
});

describe("runtime errors", () => {
  test("an unreachable database is one line naming it (password hidden), exit 1", async () => {
    const port = freePort();
    const r = await runVigil(["migrate"], { DATABASE_URL: `postgres://vigil:hunter2@127.0.0.1:${port}/vigil` });
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `vigil migrate: cannot connect to postgres://vigil:***@127.0.0.1:${port}/vigil: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe("help and version", () => {
  test("every command answers --help with its flags and environment variables", async () => {
    const top = await runVigil(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["serve", "agent", "migrate", "version"]) {
      expect(top.stdout).toContain(c);
      const r = await runVigil([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(`usage: vigil ${c}`);
    }
    const serve = await runVigil(["serve", "--help"]);
    for (const s of ["--listen", "VIGIL_LISTEN", "--data-dir", "VIGIL_DATA_DIR", "DATABASE_URL", "--no-local-agent", "VIGIL_LOG_LEVEL"]) {
      expect(serve.stdout).toContain(s);
    }
  });

  test("version", async () => {
    const r = await runVigil(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vigil \d+\.\d+\.\d+ \(/);
  });
});

describe("vigil agent --once --json", () => {
  test("prints one valid wire sample of this machine and exits 0", async () => {
    const r = await runVigil(["agent", "--once", "--json"]);
    expect(r.code).toBe(0);
    const sample = JSON.parse(r.stdout);
    expect(checkSample(sample)).toEqual({ ok: true, sample });
    expect(sample.host.memoryTotal).toBeGreaterThan(0);
    expect(sample.gpuSource).toBe("none");
    expect(sample.gpuError).toBeString();
  });

  test("reads /proc through VIGIL_PROC_ROOT", async () => {
    const r = await runVigil(["agent", "--once", "--json"], { VIGIL_PROC_ROOT: join(import.meta.dir, "../fixtures/proc") });
    expect(r.code).toBe(0);
    const sample = JSON.parse(r.stdout);
    const hostname = (await Bun.file(join(import.meta.dir, "../fixtures/proc/sys/kernel/hostname")).text()).trim();
    expect(sample.host.hostname).toBe(hostname);
  });

  test("refuses to run without saying what to print", async () => {
    await expectConfigError(["agent"], {}, ["--json"]);
  });
});

describe("the data directory belongs to one process", () => {
  test("a second serve and a migrate on a held directory are refused with the holder's pid", async () => {
    const dataDir = dir();
    const port = freePort();
    const head = spawnVigil({
      args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"],
      env: { VIGIL_DATA_DIR: dataDir },
      port,
    });
    running.push(head);
    await head.ready(60_000);
    const second = await runVigil(["serve", "--listen", `127.0.0.1:${freePort()}`], { VIGIL_DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `vigil serve: data directory ${dataDir} is in use by vigil (pid ${head.proc.pid}); stop that process first, or choose another VIGIL_DATA_DIR`,
    );
    const migrate = await runVigil(["migrate"], { VIGIL_DATA_DIR: dataDir });
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain("is in use by vigil");
    expect(await head.stop()).toBe(0);
    // Once the head is gone the directory is free again.
    const after = await runVigil(["migrate"], { VIGIL_DATA_DIR: dataDir });
    expect(after.stdout).toContain("database is up to date");
    expect(after.code).toBe(0);
  }, 90_000);

  test("a lock left by a killed process does not block the next start", async () => {
    const dataDir = dir();
    writeFileSync(
      join(dataDir, "vigil.lock"),
      JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: new Date().toISOString(), command: "serve" }),
    );
    const r = await runVigil(["migrate"], { VIGIL_DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applied (\d+) of \1 migrations/);
  }, 60_000);
});
