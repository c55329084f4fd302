// `make deploy` against a real sshd on loopback: installs, re-runs idempotently, upgrades, and stops at a failing host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { freePort, getJson, REPO, tempDir } from "../harness/process.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const tmp = tempDir("vigil-deploy-");
const root = join(tmp, "root");
const fakeBin = join(tmp, "fakebin");
const binary = join(tmp, "vigil");
const headPort = freePort();
const headUrl = `http://127.0.0.1:${headPort}`;
let sshd: Sshd;

function fake(name: string) {
  const path = join(fakeBin, name);
  writeFileSync(path, `#!/bin/sh\nFAKE_SYSTEMD_ROOT='${root}' exec '${join(REPO, "test/fake-systemd", name)}' "$@"\n`);
  chmodSync(path, 0o755);
}

function inventory(name: string, lines: string[]): string {
  const path = join(tmp, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const HEAD_LINE = `head vigil-head VIGIL_LISTEN=127.0.0.1:${headPort} VIGIL_PUBLIC_URL=${headUrl} VIGIL_NVML_LIB=/nonexistent/libnvidia-ml.so.1 VIGIL_NVIDIA_SMI=/nonexistent/nvidia-smi`;

async function deploy(args: string[], bin = binary) {
  const proc = Bun.spawn(
    [
      process.execPath,
      join(REPO, "scripts/deploy.ts"),
      "--binary",
      bin,
      "--ssh-config",
      sshd.config,
      "--root",
      root,
      "--remote-path",
      fakeBin,
      ...args,
    ],
    { cwd: REPO, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, all: stdout + stderr };
}

const pidOf = (unit: string) => readFileSync(join(root, "run/fake-systemd", `${unit}.pid`), "utf8").trim();

beforeAll(async () => {
  mkdirSync(root);
  mkdirSync(fakeBin);
  fake("systemctl");
  fake("journalctl");
  const built = Bun.spawnSync([process.execPath, join(REPO, "scripts/build.ts"), binary], { cwd: REPO });
  if (built.exitCode !== 0) throw new Error(`build failed: ${built.stderr.toString()}`);
  sshd = await startSshd(join(tmp, "ssh"), ["vigil-head", "vigil-gpu", "vigil-gpu2"], "vigil-down");
}, 60_000);

afterAll(async () => {
  for (const unit of ["vigil-agent.service", "vigil-head.service"]) {
    Bun.spawnSync([join(fakeBin, "systemctl"), "stop", unit]);
  }
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("make deploy over a real sshd", () => {
  const hosts = () => inventory("hosts", [`# the head and one worker`, HEAD_LINE, `agent vigil-gpu VIGIL_WORKER_NAME=gpu-07`]);

  test("--dry-run connects, says what it would do and changes nothing", async () => {
    const r = await deploy(["--inventory", hosts(), "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[1/2] head vigil-head");
    expect(r.stdout).toContain(`binary: would install ${root}/usr/local/bin/vigil`);
    expect(r.stdout).toContain("unit: would install");
    expect(r.stdout).toContain("service: would daemon-reload, enable and start vigil-head.service");
    expect(r.stdout).toContain("[2/2] agent vigil-gpu");
    expect(r.stdout).toContain("enrollment: would run 'vigil worker add gpu-07' on vigil-head");
    expect(r.stdout).toContain("agent gpu-07: would install through install.sh (binary none -> ");
    expect(r.stdout).toContain("dry run done: 2 host(s)");
    // Nothing written but the fake systemctl's own call log.
    expect(readdirSync(root).sort()).toEqual(["run", "var"].filter((d) => existsSync(join(root, d))));
    expect(existsSync(join(root, "usr"))).toBe(false);
    expect(existsSync(join(root, "etc"))).toBe(false);
  }, 30_000);

  test("installs a head and an agent, and waits until each is healthy", async () => {
    const r = await deploy(["--inventory", hosts()]);
    if (r.code !== 0) console.error(r.all);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("service: started vigil-head.service");
    expect(r.stdout).toMatch(/healthy: http:\/\/127\.0\.0\.1:\d+\/healthz answered in [\d.]+ s \(ok, version [\d.]+, pglite\)/);
    expect(r.stdout).toContain("enrollment: 'vigil worker add gpu-07' on vigil-head gave a one-time token");
    expect(r.stdout).toContain("seen by the head: gpu-07 online");
    expect(r.stdout).toContain("deployed: 2 host(s)");
    expect(r.stdout).not.toMatch(/vge_[A-Za-z0-9_-]{20,}/); // the enrollment token is never printed whole

    expect(await getJson(`${headUrl}/healthz`)).toMatchObject({ status: "ok" });
    const bin = statSync(join(root, "usr/local/bin/vigil"));
    expect(bin.mode & 0o777).toBe(0o755);
    const env = join(root, "etc/vigil/head.env");
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, "utf8")).toContain(`VIGIL_LISTEN='127.0.0.1:${headPort}'`);
    expect(readFileSync(join(root, "etc/systemd/system/vigil-head.service"), "utf8")).toContain(
      `ExecStart=${root}/usr/local/bin/vigil serve`,
    );
    const agentEnv = readFileSync(join(root, "etc/vigil/agent.env"), "utf8");
    expect(agentEnv).toContain(`VIGIL_HEAD=${headUrl}`);
    expect(agentEnv).toContain("VIGIL_WORKER_NAME=gpu-07");
    expect(existsSync(join(root, "var/lib/vigil-agent/bin/vigil"))).toBe(true);
  }, 120_000);

  test("a second run with nothing changed restarts nothing", async () => {
    const headPid = pidOf("vigil-head.service");
    const agentPid = pidOf("vigil-agent.service");
    const r = await deploy(["--inventory", hosts()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("binary: up to date");
    expect(r.stdout).toContain("unit: up to date");
    expect(r.stdout).toContain("settings: up to date");
    expect(r.stdout).toContain("service: running, left as it is");
    expect(r.stdout).toContain("agent gpu-07: up to date");
    expect(r.stdout).toContain("seen by the head: gpu-07 online");
    expect(pidOf("vigil-head.service")).toBe(headPid);
    expect(pidOf("vigil-agent.service")).toBe(agentPid);
  }, 90_000);

  test("a new binary replaces the old on both hosts, restarts them and waits for them", async () => {
    const newer = join(tmp, "vigil-newer");
    copyFileSync(binary, newer);
    // Bytes after the executable's payload change its hash, not its behaviour: a stand-in for the next build.
    appendFileSync(newer, "\nnext build\n");
    const sha = new Bun.CryptoHasher("sha256").update(readFileSync(newer)).digest("hex");
    const headPid = pidOf("vigil-head.service");
    const agentPid = pidOf("vigil-agent.service");
    const r = await deploy(["--inventory", hosts()], newer);
    if (r.code !== 0) console.error(r.all);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`binary: replace ${root}/usr/local/bin/vigil`);
    expect(r.stdout).toContain(`-> ${sha.slice(0, 12)}`);
    expect(r.stdout).toContain("service: restarted vigil-head.service");
    expect(r.stdout).toMatch(/agent gpu-07: install through install.sh \(binary [0-9a-f]{12} -> [0-9a-f]{12}\)/);
    expect(r.stdout).toContain("seen by the head: gpu-07 online");
    expect(pidOf("vigil-head.service")).not.toBe(headPid);
    expect(pidOf("vigil-agent.service")).not.toBe(agentPid);
    for (const f of ["usr/local/bin/vigil", "var/lib/vigil-agent/bin/vigil"]) {
      expect(new Bun.CryptoHasher("sha256").update(readFileSync(join(root, f))).digest("hex")).toBe(sha);
    }
    // The old secret carried over: the agent did not need a new token.
    expect(r.stdout).not.toContain("enrollment:");
  }, 120_000);

  test("an unreachable host stops the run, naming it and why; hosts after it are not touched", async () => {
    const r = await deploy([
      "--inventory",
      inventory("hosts-down", [HEAD_LINE, "agent vigil-down", "agent vigil-gpu2 VIGIL_WORKER_NAME=gpu-08"]),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/deploy: stopped at vigil-down \(agent\): cannot reach vigil-down over SSH: .*Connection refused/);
    expect(r.stderr).toContain("deploy: not touched: vigil-gpu2");
    expect(r.stdout).not.toContain("[3/3]");
  }, 60_000);

  test("a head that does not come up stops the run with its log", async () => {
    const r = await deploy([
      "--inventory",
      inventory("hosts-bad", [`${HEAD_LINE} VIGIL_LOG_LEVEL=loud`, "agent vigil-gpu VIGIL_WORKER_NAME=gpu-07"]),
      "--wait",
      "5",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("settings: update");
    expect(r.stderr).toContain("deploy: stopped at vigil-head (head): the head did not answer");
    expect(r.stderr).toContain('VIGIL_LOG_LEVEL="loud": expected one of');
    expect(r.stderr).toContain("deploy: not touched: vigil-gpu");
  }, 60_000);

  test("bad input is refused before any host is touched", async () => {
    const cases: [string[], string][] = [
      [["--hosts", "boss:vigil-head"], "HOSTS: 'boss:vigil-head': the role before ':' must be head or agent"],
      [["--hosts", "head:a,head:b"], "2 heads (a, b): one run deploys one head"],
      [["--hosts=-oProxyCommand=x"], "'-oProxyCommand=x' is not an SSH target"],
      [["--inventory", inventory("hosts-badkey", ["agent vigil-gpu VIGIL_LISTEN=1"])], "an agent line takes VIGIL_HEAD"],
      [["--hosts", "vigil-gpu", "--wait", "soon"], "--wait soon: expected whole seconds"],
    ];
    for (const [args, message] of cases) {
      const r = await deploy(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  }, 30_000);
});
