// Checks the restart executor end to end against the fake systemctl (a real subprocess) and a fixture /proc tree.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentMessage, type RestartCommand } from "../../src/protocol/messages.ts";
import { RestartExecutor, type RestartExecutorOptions, type RestartStatus } from "./executor.ts";

const FAKE_SYSTEMCTL = join(import.meta.dir, "../../test/fake-systemctl/systemctl");
const tmp = mkdtempSync(join(tmpdir(), "vigil-restart-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A /proc tree: 101 and 102 run in comfyui.service (v2 and v1 layouts, 102 in a sub-cgroup), 200 in
// vllm.service, 201 in a user's own comfyui.service, which the system's restart does not touch.
const proc = join(tmp, "proc");
for (const [pid, cgroup] of [
  [101, "0::/system.slice/comfyui.service\n"],
  [102, "8:pids:/system.slice/comfyui.service\n5:freezer:/\n1:name=systemd:/system.slice/comfyui.service/worker\n"],
  [200, "0::/system.slice/vllm.service\n"],
  [201, "0::/user.slice/user-1000.slice/user@1000.service/app.slice/comfyui.service\n"],
] as const) {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), "cgroup"), cgroup);
}

const FAKE_VARS = ["FAKE_SYSTEMCTL_LOG", "FAKE_SYSTEMCTL_MODE", "FAKE_SYSTEMCTL_DELAY", "FAKE_SYSTEMCTL_PID_FILE"] as const;
let dir: string;
let callLog: string;
let n = 0;

beforeEach(() => {
  dir = join(tmp, `case-${++n}`);
  mkdirSync(dir);
  callLog = join(dir, "systemctl.log");
  for (const v of FAKE_VARS) delete process.env[v];
  // Read by the fake at spawn time: the executor passes process.env as it is then.
  process.env.FAKE_SYSTEMCTL_LOG = callLog;
});
afterEach(() => {
  for (const v of FAKE_VARS) delete process.env[v];
});

/** Every command line that reached the fake systemctl, in order. */
function calls(): string[][] {
  if (!existsSync(callLog)) return [];
  const text = readFileSync(callLog, "utf8");
  return text === ""
    ? []
    : text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as string[]);
}

const silent = { info() {}, warn() {}, error() {} };

function executor(opts: Partial<RestartExecutorOptions> = {}) {
  return new RestartExecutor({
    allow: ["comfyui.service", "vllm.service"],
    systemctl: FAKE_SYSTEMCTL,
    procRoot: proc,
    gpuPids: async () => [],
    pollMs: 5,
    log: silent,
    ...opts,
  });
}

function command(extra: Partial<RestartCommand> = {}): RestartCommand {
  return { type: "restart", id: 7, service: "comfyui.service", force: false, waitSeconds: 60, ...extra };
}

/** Runs one command and returns what it reported. */
async function run(ex: RestartExecutor, cmd: RestartCommand): Promise<RestartStatus[]> {
  const statuses: RestartStatus[] = [];
  await ex.run(cmd, (s) => statuses.push(s));
  return statuses;
}

const states = (statuses: RestartStatus[]) => statuses.map((s) => s.state);

describe("an allowed restart", () => {
  test("runs `systemctl restart -- UNIT` once and reports restarting, completed", async () => {
    const statuses = await run(executor(), command());
    expect(calls()).toEqual([["restart", "--", "comfyui.service"]]);
    expect(states(statuses)).toEqual(["restarting", "completed"]);
    expect(statuses[1]!.message).toMatch(/^restarted in \d+(\.\d)? s$/);
  });

  test("the unit reaches systemctl as one argument, byte for byte, with no shell between", async () => {
    const unit = "vigil\\x2dworker@gpu:0.service";
    const statuses = await run(executor({ allow: [unit] }), command({ service: unit }));
    expect(states(statuses)).toEqual(["restarting", "completed"]);
    expect(calls()).toEqual([["restart", "--", unit]]);
  });

  test("every status is a valid restart-status message with an ISO time", async () => {
    const statuses = await run(executor({ now: () => Date.parse("2026-11-23T10:00:01.000Z") }), command({ id: 42 }));
    for (const s of statuses) {
      expect(s.id).toBe(42);
      expect(s.at).toBe("2026-11-23T10:00:01.000Z");
      expect(parseAgentMessage({ type: "restart-status", ...s })).toMatchObject({ ok: true });
    }
  });
});

describe("a refused restart never reaches systemctl", () => {
  test.each([
    ["x;id", /"x;id" is not a valid unit name: it contains ";"/],
    ["../x", /contains "\/"/],
    ["--help", /starts with "-"/],
    ["comfyui", /no unit type suffix .* \(did you mean comfyui\.service\?\)$/],
    ["a b.service", /contains a space/],
    ["", /the name is empty/],
    ["x".repeat(292) + ".service", /300 characters long/],
    ["comfyui.\u0455ervice", /not ASCII/],
    ["comfyui.service\n", /whitespace/],
    ["comfyui.service;reboot", /contains ";"/],
    ["sshd.service", /not on this agent's restart allow-list/],
    ["COMFYUI.service", /not on this agent's restart allow-list/],
  ])("%p", async (service, why) => {
    const refusals: unknown[] = [];
    const log = { ...silent, warn: (msg: string, ctx?: unknown) => refusals.push({ msg, ctx }) };
    const statuses = await run(executor({ log }), command({ service }));
    expect(statuses).toHaveLength(1);
    expect(statuses[0]!.state).toBe("refused");
    expect(statuses[0]!.message).toMatch(why);
    expect(refusals).toEqual([{ msg: "restart refused", ctx: expect.objectContaining({ service, id: 7 }) }]);
    expect(calls()).toEqual([]);
    expect(existsSync(callLog)).toBe(false);
  });

  test("an empty allow-list refuses everything", async () => {
    const statuses = await run(executor({ allow: [] }), command({ force: true }));
    expect(states(statuses)).toEqual(["refused"]);
    expect(statuses[0]!.message).toMatch(/allows no restarts/);
    expect(calls()).toEqual([]);
  });

  test("a refusal does not even ask which GPU processes are running", async () => {
    let asked = 0;
    await run(executor({ gpuPids: async () => (asked++, [101]) }), command({ service: "x;id" }));
    expect(asked).toBe(0);
  });

  test("an invalid entry in the allow-list given to the constructor is an error", () => {
    expect(() => executor({ allow: ["comfyui.service", "x;id"] })).toThrow(/"x;id" is not a valid unit name/);
  });
});

describe("waiting for the unit's GPU processes", () => {
  test("reports waiting each time the count changes, then restarts when none are left", async () => {
    // Samples as the processes end: 102 first, then 101. 200 (another unit), 201 (the user's
    // comfyui.service) and 999 (gone from /proc) never count.
    const samples = [
      [101, 102, 200, 201, 999],
      [101, 102, 200, 201],
      [101, 200, 201],
      [101, 200, 201],
      [200, 201],
    ];
    let i = 0;
    const gpuPids = async () => samples[Math.min(i++, samples.length - 1)]!;
    const statuses = await run(executor({ gpuPids }), command());
    expect(states(statuses)).toEqual(["waiting", "waiting", "restarting", "completed"]);
    expect(statuses[0]!.message).toBe("waiting for 2 GPU processes of comfyui.service to end (pids 101, 102)");
    expect(statuses[1]!.message).toBe("waiting for 1 GPU process of comfyui.service to end (pids 101)");
    expect(calls()).toEqual([["restart", "--", "comfyui.service"]]);
    // The systemctl call came after the last sample that still had a process of the unit.
    expect(i).toBe(5);
  });

  test("with no GPU processes in the unit it restarts at once", async () => {
    const statuses = await run(executor({ gpuPids: async () => [200, 201] }), command());
    expect(states(statuses)).toEqual(["restarting", "completed"]);
  });

  test("gives up after waitSeconds, without calling systemctl", async () => {
    // A clock that moves 600 ms for every sample read: the second read is past the 1 s bound.
    let t = Date.parse("2026-11-23T10:00:00.000Z");
    const gpuPids = async () => ((t += 600), [101, 102, 200]);
    const statuses = await run(executor({ gpuPids, now: () => t }), command({ waitSeconds: 1 }));
    expect(states(statuses)).toEqual(["waiting", "failed"]);
    expect(statuses[1]!.message).toBe("gave up after 1s: 2 GPU processes still running (pids 101, 102)");
    expect(statuses[1]!.at).toBe("2026-11-23T10:00:01.200Z");
    expect(calls()).toEqual([]);
  });

  test("waitSeconds 0 fails at once when the unit has GPU processes", async () => {
    const statuses = await run(executor({ gpuPids: async () => [101] }), command({ waitSeconds: 0 }));
    expect(states(statuses)).toEqual(["failed"]);
    expect(statuses[0]!.message).toBe("gave up after 0s: 1 GPU process still running (pids 101)");
    expect(calls()).toEqual([]);
  });

  test("the agent's own bound caps a command's waitSeconds", async () => {
    let t = 0;
    const gpuPids = async () => ((t += 1000), [101]);
    const statuses = await run(executor({ gpuPids, now: () => t, maxWaitSeconds: 2 }), command({ waitSeconds: 1_000_000 }));
    expect(statuses.at(-1)!.message).toMatch(/^gave up after 2s/);
  });

  test("not knowing the GPU processes fails the restart rather than guessing", async () => {
    const gpuPids = async (): Promise<number[]> => {
      throw new Error("no sample yet");
    };
    const statuses = await run(executor({ gpuPids }), command());
    expect(states(statuses)).toEqual(["failed"]);
    expect(statuses[0]!.message).toBe("could not tell which GPU processes belong to comfyui.service: no sample yet");
    expect(calls()).toEqual([]);
  });

  test("force skips the wait", async () => {
    let asked = 0;
    const statuses = await run(executor({ gpuPids: async () => (asked++, [101, 102]) }), command({ force: true, waitSeconds: 0 }));
    expect(states(statuses)).toEqual(["restarting", "completed"]);
    expect(asked).toBe(0);
    expect(calls()).toEqual([["restart", "--", "comfyui.service"]]);
  });

  test("close() ends a wait with failed", async () => {
    const ex = executor({ gpuPids: async () => [101] });
    const statuses: RestartStatus[] = [];
    const done = ex.run(command(), (s) => statuses.push(s));
    await Bun.sleep(30);
    ex.close();
    await done;
    expect(states(statuses)).toEqual(["waiting", "failed"]);
    expect(statuses[1]!.message).toMatch(/the agent stopped while waiting/);
    expect(states(await run(ex, command()))).toEqual(["refused"]);
    expect(calls()).toEqual([]);
  });
});

describe("systemctl's outcome", () => {
  test("a failing unit: failed with the exit code and systemctl's first line", async () => {
    process.env.FAKE_SYSTEMCTL_MODE = "fail";
    const statuses = await run(executor(), command());
    expect(states(statuses)).toEqual(["restarting", "failed"]);
    expect(statuses[1]!.message).toBe(
      "systemctl exited with 1: Job for comfyui.service failed because the control process exited with error code.",
    );
  });

  test("a restart that outlives its time limit is killed and fails", async () => {
    process.env.FAKE_SYSTEMCTL_MODE = "hang";
    const pidFile = join(dir, "pid");
    process.env.FAKE_SYSTEMCTL_PID_FILE = pidFile;
    const started = performance.now();
    const statuses = await run(executor({ restartTimeoutMs: 300 }), command());
    expect(performance.now() - started).toBeLessThan(5000);
    expect(states(statuses)).toEqual(["restarting", "failed"]);
    expect(statuses[1]!.message).toBe(
      "systemctl restart comfyui.service did not finish within 0.3 s and was killed; systemd may still be running the job",
    );
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(() => process.kill(pid, 0)).toThrow(); // ESRCH: gone, and reaped
    expect(calls()).toEqual([["restart", "--", "comfyui.service"]]);
  });

  test("a systemctl that cannot be started: failed, with why", async () => {
    const statuses = await run(executor({ systemctl: join(dir, "no-such-systemctl") }), command());
    expect(states(statuses)).toEqual(["restarting", "failed"]);
    expect(statuses[1]!.message).toMatch(/^could not run .*no-such-systemctl: .*ENOENT/);
  });
});

describe("one restart per unit at a time", () => {
  test("a second command for a unit in progress is refused; another unit goes ahead", async () => {
    process.env.FAKE_SYSTEMCTL_DELAY = "0.4";
    const ex = executor();
    const first: RestartStatus[] = [];
    const running = ex.run(command({ id: 1 }), (s) => first.push(s));
    const second = await run(ex, command({ id: 2 }));
    const other = ex.run(command({ id: 3, service: "vllm.service" }), () => {});
    expect(second).toEqual([
      { id: 2, state: "refused", message: "a restart of comfyui.service is already in progress", at: expect.any(String) },
    ]);
    await Promise.all([running, other]);
    expect(states(first)).toEqual(["restarting", "completed"]);
    expect(calls().sort()).toEqual([
      ["restart", "--", "comfyui.service"],
      ["restart", "--", "vllm.service"],
    ]);
    // Once it is over, the unit may be restarted again.
    delete process.env.FAKE_SYSTEMCTL_DELAY;
    expect(states(await run(ex, command({ id: 4 })))).toEqual(["restarting", "completed"]);
  });

  test("a unit waiting for its GPU processes is in progress too", async () => {
    let left = [101];
    const ex = executor({ gpuPids: async () => left });
    const first: RestartStatus[] = [];
    const running = ex.run(command({ id: 1 }), (s) => first.push(s));
    await Bun.sleep(20);
    expect(states(await run(ex, command({ id: 2, force: true })))).toEqual(["refused"]);
    left = [];
    await running;
    expect(states(first)).toEqual(["waiting", "restarting", "completed"]);
    expect(calls()).toHaveLength(1);
  });

  test("a report callback that throws does not stop the restart or leave the unit locked", async () => {
    const ex = executor();
    await ex.run(command(), () => {
      throw new Error("socket closed");
    });
    expect(calls()).toEqual([["restart", "--", "comfyui.service"]]);
    expect(states(await run(ex, command()))).toEqual(["restarting", "completed"]);
  });
});
