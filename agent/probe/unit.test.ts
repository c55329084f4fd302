// Checks the unit probe: systemctl show's output read back, the exact argv it runs, unit names refused before systemctl, failures and timeouts.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ProbeContext } from "./context.ts";
import { parseUnitShow, probeUnitName, unitProbe, utcTimestamp } from "./unit.ts";

const FAKE_SYSTEMCTL = resolve(import.meta.dir, "../../test/fake-systemctl/systemctl");
const tmp = mkdtempSync(join(tmpdir(), "vigil-probe-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * test/fake-systemctl records the call and succeeds, fails or hangs, but prints nothing; this wrapper
 * then prints FAKE_SYSTEMCTL_SHOW for `show`. (Hanging goes through exec, so a kill reaches the sleep.)
 */
function showingSystemctl(dir: string): string {
  const path = join(dir, "systemctl");
  writeFileSync(
    path,
    [
      "#!/usr/bin/env bash",
      `if [ "\${FAKE_SYSTEMCTL_MODE:-ok}" = hang ]; then exec ${JSON.stringify(FAKE_SYSTEMCTL)} "$@"; fi`,
      `${JSON.stringify(FAKE_SYSTEMCTL)} "$@" || exit $?`,
      'if [ "$1" = show ] && [ -n "${FAKE_SYSTEMCTL_SHOW:-}" ]; then cat "$FAKE_SYSTEMCTL_SHOW"; fi',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return path;
}

// What systemd 255 prints for a running unit and for a name it does not know (under TZ=UTC).
const RUNNING = [
  "ActiveState=active",
  "SubState=running",
  "LoadState=loaded",
  "UnitFileState=enabled",
  "ActiveEnterTimestamp=Mon 2026-11-23 10:00:01 UTC",
  "",
].join("\n");
const NOT_FOUND = ["ActiveState=inactive", "SubState=dead", "LoadState=not-found", "UnitFileState=", "ActiveEnterTimestamp=", ""].join(
  "\n",
);

const systemctl = showingSystemctl(tmp);
const log = join(tmp, "calls");
const show = join(tmp, "show");
const ctx = (timeoutMs = 5000): ProbeContext => ({ settings: { logUnits: [], paths: [], systemctl }, timeoutMs });
const calls = (): string[][] =>
  existsSync(log)
    ? readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[])
    : [];

afterEach(() => {
  rmSync(log, { force: true });
  delete process.env.FAKE_SYSTEMCTL_MODE;
});
process.env.FAKE_SYSTEMCTL_LOG = log;
process.env.FAKE_SYSTEMCTL_SHOW = show;
afterAll(() => {
  delete process.env.FAKE_SYSTEMCTL_LOG;
  delete process.env.FAKE_SYSTEMCTL_SHOW;
});

describe("parseUnitShow", () => {
  test("a running unit", () => {
    expect(parseUnitShow("comfyui.service", RUNNING)).toEqual({
      unit: "comfyui.service",
      loadState: "loaded",
      activeState: "active",
      subState: "running",
      unitFileState: "enabled",
      activeEnterTimestamp: "Mon 2026-11-23 10:00:01 UTC",
      activeSince: "2026-11-23T10:00:01.000Z",
    });
  });

  test("a unit systemd does not know is an answer (not-found), not an error", () => {
    expect(parseUnitShow("nope.service", NOT_FOUND)).toMatchObject({
      loadState: "not-found",
      activeState: "inactive",
      activeEnterTimestamp: null,
      activeSince: null,
    });
  });

  test("output without ActiveState is not systemctl's", () => {
    expect(() => parseUnitShow("x.service", "")).toThrow("systemctl show x.service printed no ActiveState");
  });

  test("utcTimestamp reads only what systemctl prints under TZ=UTC", () => {
    expect(utcTimestamp("Tue 2026-01-06 00:00:00 UTC")).toBe("2026-01-06T00:00:00.000Z");
    expect(utcTimestamp("Tue 2026-01-06 00:00:00 CET")).toBeNull();
    expect(utcTimestamp("n/a")).toBeNull();
  });
});

describe("probeUnitName", () => {
  test('a name without a type gets ".service", as systemctl gives it', () => {
    expect(probeUnitName("nvidia-persistenced")).toBe("nvidia-persistenced.service");
    expect(probeUnitName("comfyui.service")).toBe("comfyui.service");
    expect(probeUnitName("foo@1.service")).toBe("foo@1.service");
  });

  test("the restart allow-list's rule refuses the rest", () => {
    expect(() => probeUnitName("--help")).toThrow(/starts with "-"/);
    expect(() => probeUnitName("x;id")).toThrow(/contains ";"/);
    expect(() => probeUnitName("a b")).toThrow(/contains a space/);
    expect(() => probeUnitName("../x.service")).toThrow(/contains "\/"/);
    expect(() => probeUnitName("comfyui.exe")).toThrow(/"\.exe" is not a unit type/);
  });
});

describe("unitProbe against the fake systemctl", () => {
  test("runs systemctl show with an argv array and reads the state", async () => {
    writeFileSync(show, RUNNING);
    expect(await unitProbe({ unit: "comfyui.service" }, ctx())).toMatchObject({ activeState: "active", subState: "running" });
    expect(calls()).toEqual([
      ["show", "comfyui.service", "--property=ActiveState,SubState,LoadState,UnitFileState,ActiveEnterTimestamp", "--no-pager"],
    ]);
  });

  test("a name with shell syntax never reaches systemctl", async () => {
    for (const bad of ["x;id.service", "$(id).service", "--all", "a b.service", "x\n.service"])
      await expect(unitProbe({ unit: bad }, ctx())).rejects.toThrow(/is not a valid unit name/);
    expect(calls()).toEqual([]);
  });

  test("systemctl failing is an error with its words", async () => {
    process.env.FAKE_SYSTEMCTL_MODE = "fail";
    // (The fake names its last argument as the unit: "--no-pager" here.)
    await expect(unitProbe({ unit: "comfyui.service" }, ctx())).rejects.toThrow(
      /^systemctl show comfyui.service exited with 1: Job for .* failed because the control process exited with error code\.$/,
    );
  });

  test("a systemctl that hangs is killed at the timeout", async () => {
    process.env.FAKE_SYSTEMCTL_MODE = "hang";
    const started = performance.now();
    await expect(unitProbe({ unit: "comfyui.service" }, ctx(300))).rejects.toThrow(/did not finish within 0.3 s and was killed/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a systemctl that is not there is an error naming it", async () => {
    const missing = { logUnits: [], paths: [], systemctl: join(tmp, "no-such-systemctl") };
    await expect(unitProbe({ unit: "comfyui.service" }, { settings: missing, timeoutMs: 1000 })).rejects.toThrow(
      /could not run .*no-such-systemctl/,
    );
  });
});
