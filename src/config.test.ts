import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, SETTINGS, checkDataDir, formatOptions, parseCommandConfig, redactUrl } from "./config.ts";
import { HEAD_SETTINGS } from "./head/context.ts";

const serveKeys = ["listen", "dataDir", "databaseUrl", "localAgent", "interval", "logLevel"] as const;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseCommandConfig", () => {
  test("defaults apply when neither flag nor environment is set", () => {
    const { config } = parseCommandConfig("serve", serveKeys, [], {});
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 8480 });
    expect(config.dataDir).toEndWith("/vigil-data");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.localAgent).toBe(true);
    expect(config.interval).toBe(1);
    expect(config.logLevel).toBe("info");
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("environment overrides defaults and flags override the environment", () => {
    const env = { VIGIL_LISTEN: "127.0.0.1:9000", VIGIL_INTERVAL: "5", VIGIL_LOCAL_AGENT: "false" };
    expect(parseCommandConfig("serve", serveKeys, [], env).config.listen).toEqual({ host: "127.0.0.1", port: 9000 });
    const { config } = parseCommandConfig("serve", serveKeys, ["--listen", "[::1]:9100", "--interval", "500ms"], env);
    expect(config.listen).toEqual({ host: "::1", port: 9100 });
    expect(config.interval).toBe(0.5);
    expect(config.localAgent).toBe(false);
    expect(parseCommandConfig("serve", serveKeys, ["--no-local-agent"], {}).config.localAgent).toBe(false);
    expect(parseCommandConfig("serve", serveKeys, ["--listen", "8481"], {}).config.listen).toEqual({ host: "0.0.0.0", port: 8481 });
  });

  test("a port out of range names the setting it came from", () => {
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, ["--listen", "0.0.0.0:70000"], {}))).toBe(
      '--listen="0.0.0.0:70000": port 70000 is out of range (1-65535)',
    );
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, [], { VIGIL_LISTEN: "localhost:0" }))).toBe(
      'VIGIL_LISTEN="localhost:0": port 0 is out of range (1-65535)',
    );
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, [], { VIGIL_LISTEN: "nonsense" }))).toContain("expected HOST:PORT");
  });

  test("a malformed DATABASE_URL is refused without printing its password", () => {
    const msg = errorOf(() => parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: "mysql://u:hunter2@db/x" }));
    expect(msg).toContain("DATABASE_URL");
    expect(msg).toContain("postgres://");
    expect(msg).not.toContain("hunter2");
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: "not a url" }))).toContain("not a URL");
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: "postgres://u:p@h:99999/db" }))).toContain(
      "out of range",
    );
    expect(
      parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: "postgresql://vigil:s3cret@db.internal:5432/vigil" }).config.databaseUrl,
    ).toBe("postgresql://vigil:s3cret@db.internal:5432/vigil");
  });

  test("unknown flags, bad levels and bad intervals are one-line errors", () => {
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, ["--frobnicate"], {}))).toContain("'vigil serve --help'");
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, [], { VIGIL_LOG_LEVEL: "loud" }))).toContain("debug, info, warn, error");
    expect(errorOf(() => parseCommandConfig("serve", serveKeys, ["--interval", "0"], {}))).toContain("between 100ms and 3600s");
    for (const m of [
      errorOf(() => parseCommandConfig("serve", serveKeys, ["--frobnicate"], {})),
      errorOf(() => parseCommandConfig("serve", serveKeys, [], { VIGIL_LOCAL_AGENT: "perhaps" })),
    ]) {
      expect(m).not.toContain("\n");
    }
  });

  test("--help is reported, and the option list shows every flag with its environment variable", () => {
    expect(parseCommandConfig("serve", serveKeys, ["--help"], {}).help).toBe(true);
    const text = formatOptions(serveKeys);
    for (const key of serveKeys) {
      const s = SETTINGS[key];
      if (s.flag) expect(text).toContain(`--${s.flag}`);
      if (s.env) expect(text).toContain(s.env);
    }
  });
});

describe("checkDataDir", () => {
  test("creates a missing directory and accepts it", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vigil-cfg-")), "a", "b");
    checkDataDir(dir);
  });

  test("refuses a file, and a place that cannot be created", () => {
    const file = join(mkdtempSync(join(tmpdir(), "vigil-cfg-")), "file");
    writeFileSync(file, "x");
    expect(errorOf(() => checkDataDir(file))).toContain("not a directory");
    expect(errorOf(() => checkDataDir(join(file, "sub")))).toContain("not a usable data directory");
    expect(errorOf(() => checkDataDir("/proc/vigil-data"))).toContain("not a usable data directory");
  });
});

test("redactUrl hides passwords", () => {
  expect(redactUrl("postgres://u:secret@h/db")).toBe("postgres://u:***@h/db");
  expect(redactUrl("postgres://u:sec ret@h/db")).not.toContain("sec ret");
});

test("the --json help says what it prints for every command that takes it", async () => {
  const { COMMANDS } = await import("./cli/index.ts");
  const takers = COMMANDS.filter((c) => (c.settings as readonly string[]).includes("json")).map((c) => c.name);
  expect(takers.length).toBeGreaterThan(1);
  for (const name of takers) expect(SETTINGS.json.help).toContain(name);
  expect(SETTINGS.json.help).toStartWith("print JSON on stdout");
});

test("DATABASE_URL may name a Unix socket directory with ?host= instead of a host", () => {
  for (const url of [
    "postgres://vigil@/vigil?host=/run/postgresql",
    "postgresql://vigil:s3cret@/vigil?host=/run/postgresql&port=5433",
    "postgres:///vigil?host=/run/postgresql",
  ])
    expect(parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: url }).config.databaseUrl).toBe(url);
  const msg = errorOf(() => parseCommandConfig("serve", serveKeys, [], { DATABASE_URL: "postgres://vigil:s3cret@/vigil" }));
  expect(msg).toContain("no host");
  expect(msg).toContain("?host=/run/postgresql");
  expect(msg).not.toContain("s3cret");
});

describe("database and cluster settings", () => {
  const serve = (env: Record<string, string>) => parseCommandConfig("serve", HEAD_SETTINGS, [], env).config;
  test("defaults: a pool of 10, statements cancelled after 5 minutes, busy beyond 20,000 queued samples, a 1 s leader retry", () => {
    const c = serve({});
    expect([c.dbPoolSize, c.dbStatementTimeout, c.ingestQueueMax, c.leaderRetry]).toEqual([10, 300, 20_000, 1]);
  });
  test("values as an operator writes them", () => {
    const c = serve({
      VIGIL_DB_POOL_SIZE: "40",
      VIGIL_DB_STATEMENT_TIMEOUT: "0",
      VIGIL_INGEST_QUEUE_MAX: "50000",
      VIGIL_LEADER_RETRY: "500ms",
    });
    expect([c.dbPoolSize, c.dbStatementTimeout, c.ingestQueueMax, c.leaderRetry]).toEqual([40, 0, 50_000, 0.5]);
  });
  test("bad values say what is expected", () => {
    expect(() => serve({ VIGIL_DB_POOL_SIZE: "0" })).toThrow('VIGIL_DB_POOL_SIZE="0": expected a whole number from 1 to 1000');
    expect(() => serve({ VIGIL_DB_STATEMENT_TIMEOUT: "soon" })).toThrow("expected a duration such as 500ms, 2s or 5m");
    expect(() => serve({ VIGIL_INGEST_QUEUE_MAX: "1.5" })).toThrow("expected a whole number from 100 to 10000000");
    expect(() => serve({ VIGIL_LEADER_RETRY: "2d" })).toThrow("expected a duration such as 500ms, 2s or 5m");
  });
});
