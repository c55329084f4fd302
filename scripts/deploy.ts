// `make deploy`: copies the compiled binary to each host over SSH, installs or updates its unit, restarts it, waits until healthy.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderInstallScript } from "../src/routes/install.ts";
import { InventoryError, ordered, parseHostsList, parseInventory, type Host } from "./deploy/inventory.ts";
import { Ssh, SshError } from "./deploy/ssh.ts";
import { AGENT_UNIT, HEAD_UNIT, layout, parseEnvFile, renderAgentUnit, renderHeadEnv, renderHeadUnit, shq } from "./deploy/units.ts";

const HELP = `usage: make deploy HOSTS="head:HOST,HOST2,..." [DRY_RUN=1] [DEPLOY_ARGS="..."]
       bun scripts/deploy.ts [--hosts LIST | --inventory FILE] [options]

Builds dist/vigil (make does), then for each host in turn, the head first: copies the binary over SSH,
installs or updates its systemd unit (vigil-head.service or, through install.sh, vigil-agent.service),
restarts it when something changed, and waits until it is healthy (a head: /healthz answers; an agent:
the head hears from it). The first host that fails stops the run; hosts after it are not touched.
Running it again with nothing changed restarts nothing.

  --hosts LIST       comma-separated SSH targets; "head:" marks the head, others are agents
                     (HOSTS="head:vigil-01,gpu-01,gpu-02")
  --inventory FILE   one host per line: ROLE TARGET [KEY=VALUE ...] (default: deploy/hosts when it
                     exists; see deploy/hosts.example). A head's KEY=VALUEs go into /etc/vigil/head.env,
                     an agent's are install.sh's settings (VIGIL_WORKER_NAME, VIGIL_RESTART_ALLOW, ...)
  --binary FILE      the binary to install (default: dist/vigil)
  --dry-run          connect and say what would change on each host; change nothing
  --wait SECONDS     how long a host may take to become healthy (default 60)
  --ssh-config FILE  an ssh_config for the hosts (default: ssh's own, ~/.ssh/config)
  -h, --help         this text

Each host needs: SSH as root (or a user whose commands run as root) with a key, systemd, and curl or
wget (the head's health check). New agents are enrolled through the head (vigil worker add NAME).

Tests only: --root DIR installs under DIR instead of / on every host, --remote-path DIR puts DIR
first on the remote PATH (a fake systemctl where no systemd runs).`;

interface Options {
  hosts: Host[];
  binary: string;
  dryRun: boolean;
  waitSeconds: number;
  root: string;
  ssh: Ssh;
  controlDir: string;
}

class DeployError extends Error {}

const say = (line: string) => console.log(line);
const step = (line: string) => console.log(`    ${line}`);

/** What a host has now: one read-only SSH round trip. */
interface Probe {
  os: string;
  hostname: string;
  bin: string;
  agentBin: string;
  systemctl: boolean;
  fetcher: string;
  active: string;
  unit: string;
  env: string;
}

async function probe(o: Options, host: Host, unitFile: string, envFile: string, unitName: string): Promise<Probe> {
  const L = layout(o.root);
  const sha = (f: string) => `if [ -f ${shq(f)} ]; then sha256sum ${shq(f)} | cut -d ' ' -f 1; else echo none; fi`;
  const out = await o.ssh.check(
    host.target,
    [
      `echo "os=$(uname -sm)"`,
      `echo "hostname=$(hostname)"`,
      `echo "bin=$(${sha(L.bin)})"`,
      `echo "agentbin=$(${sha(L.agentBin)})"`,
      `echo "systemctl=$(command -v systemctl || echo none)"`,
      `echo "fetcher=$(command -v curl || command -v wget || echo none)"`,
      `echo "active=$(systemctl is-active ${unitName} 2>/dev/null || true)"`,
      `echo @@unit; if [ -f ${shq(unitFile)} ]; then cat ${shq(unitFile)}; fi`,
      `echo @@env; if [ -f ${shq(envFile)} ]; then cat ${shq(envFile)}; fi`,
      `echo @@end`,
    ].join("\n"),
    "looking at the host",
  );
  const [head = "", rest = ""] = out.split("@@unit\n");
  const [unit = "", afterUnit = ""] = rest.split("@@env\n");
  const [env = ""] = afterUnit.split("@@end\n");
  const kv = Object.fromEntries(
    head
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return {
    os: kv.os ?? "",
    hostname: kv.hostname ?? "",
    bin: kv.bin ?? "none",
    agentBin: kv.agentbin ?? "none",
    systemctl: (kv.systemctl ?? "none") !== "none",
    fetcher: kv.fetcher ?? "none",
    active: kv.active ?? "",
    unit,
    env,
  };
}

function checkPlatform(p: Probe, host: Host): void {
  if (p.os !== "Linux x86_64") throw new DeployError(`${host.target} is ${p.os || "not Linux"}; dist/vigil is a Linux x86_64 binary`);
  if (!p.systemctl) {
    throw new DeployError(
      `${host.target} has no systemctl; Vigil's units need systemd (docs/install.md shows how to run the binary yourself)`,
    );
  }
}

const short = (sha: string) => (sha === "none" ? "none" : sha.slice(0, 12));

/** Streams a local file to `dest` on the host: a temp file beside it, checked against `sha`, then renamed over it. */
async function upload(o: Options, host: Host, dest: string, sha: string): Promise<void> {
  const tmp = `${dest}.vigil-new`;
  await o.ssh.check(
    host.target,
    [
      `set -e`,
      `mkdir -p ${shq(dest.slice(0, dest.lastIndexOf("/")) || "/")}`,
      `cat > ${shq(tmp)}`,
      `got=$(sha256sum ${shq(tmp)} | cut -d ' ' -f 1)`,
      `if [ "$got" != ${sha} ]; then rm -f ${shq(tmp)}; echo "upload arrived damaged (sha256 $got, sent ${sha})" >&2; exit 1; fi`,
      `chmod 0755 ${shq(tmp)}`,
      `mv -f ${shq(tmp)} ${shq(dest)}`,
    ].join("\n"),
    `copying the binary to ${dest}`,
    { file: o.binary },
  );
}

async function writeText(o: Options, host: Host, dest: string, text: string, mode: string): Promise<void> {
  const tmp = `${dest}.vigil-new`;
  await o.ssh.check(
    host.target,
    `set -e\numask 077\nmkdir -p ${shq(dest.slice(0, dest.lastIndexOf("/")))}\ncat > ${shq(tmp)}\nchmod ${mode} ${shq(tmp)}\nmv -f ${shq(tmp)} ${shq(dest)}`,
    `writing ${dest}`,
    { text },
  );
}

/** The last lines the unit wrote, for a failure message. */
async function journal(o: Options, host: Host, unit: string): Promise<string> {
  try {
    const r = await o.ssh.run(
      host.target,
      `systemctl status ${unit} --no-pager 2>&1 | head -n 3; journalctl -u ${unit} -n 15 --no-pager 2>&1`,
    );
    return r.stdout
      .trim()
      .split("\n")
      .map((l) => `      | ${l}`)
      .join("\n");
  } catch {
    return "      (its log could not be read)";
  }
}

// ---- the head ----------------------------------------------------------------------------------------------------

interface HeadInfo {
  host: Host;
  url: string;
}

function listenOf(env: Record<string, string>): { host: string; port: number } {
  const raw = env.VIGIL_LISTEN ?? "0.0.0.0:8480";
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw) ?? /^()()(\d+)$/.exec(raw);
  if (!m) throw new DeployError(`VIGIL_LISTEN=${raw} is not HOST:PORT`);
  const h = m[1] || m[2] || "0.0.0.0";
  // A wildcard address is checked on loopback; a specific one where it listens.
  const host = h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h.includes(":") ? `[${h}]` : h;
  return { host, port: Number(m[3]) };
}

async function deployHead(o: Options, host: Host, localSha: string): Promise<HeadInfo> {
  const L = layout(o.root);
  const unitFile = `${L.unitDir}/${HEAD_UNIT}`;
  const p = await probe(o, host, unitFile, L.headEnv, HEAD_UNIT);
  checkPlatform(p, host);
  if (p.fetcher === "none") throw new DeployError(`${host.target} has neither curl nor wget; install one (the health check uses it)`);
  const existing = parseEnvFile(p.env);
  const envText = Object.keys(host.settings).length || p.env ? renderHeadEnv(existing, host.settings) : "";
  const unitText = renderHeadUnit(o.root);
  const env = { ...existing, ...host.settings };
  const listen = listenOf(env);
  const url = (env.VIGIL_PUBLIC_URL ?? `http://${host.target.replace(/^.*@/, "")}:${listen.port}`).replace(/\/$/, "");

  const binChange = p.bin === localSha ? null : p.bin === "none" ? "install" : "replace";
  const unitChange = p.unit === unitText ? null : p.unit ? "update" : "install";
  const envChange = envText && envText !== p.env ? (p.env ? "update" : "write") : null;
  const restart = binChange || unitChange || envChange || p.active !== "active";
  const would = o.dryRun ? "would " : "";

  step(
    binChange ? `binary: ${would}${binChange} ${L.bin} (${short(p.bin)} -> ${short(localSha)})` : `binary: up to date (${short(localSha)})`,
  );
  if (binChange && !o.dryRun) await upload(o, host, L.bin, localSha);
  step(unitChange ? `unit: ${would}${unitChange} ${unitFile}` : "unit: up to date");
  if (unitChange && !o.dryRun) await writeText(o, host, unitFile, unitText, "0644");
  const changedKeys = Object.keys(host.settings).filter((k) => existing[k] !== host.settings[k]);
  step(envChange ? `settings: ${would}${envChange} ${L.headEnv} (${changedKeys.join(", ") || "format"})` : "settings: up to date");
  if (envChange && !o.dryRun) await writeText(o, host, L.headEnv, envText, "0600");

  const verb = p.active === "active" ? "restart" : "start";
  if (!restart) {
    step(`service: running, left as it is`);
  } else if (o.dryRun) {
    step(`service: would ${unitChange ? "daemon-reload, " : ""}enable and ${verb} ${HEAD_UNIT}`);
    return { host, url };
  } else {
    const reload = unitChange ? "systemctl daemon-reload\n" : "";
    await o.ssh.check(
      host.target,
      `set -e\n${reload}systemctl enable ${HEAD_UNIT} 2>/dev/null\nsystemctl ${verb} ${HEAD_UNIT}`,
      `${verb}ing ${HEAD_UNIT}`,
    );
    step(`service: ${verb}ed ${HEAD_UNIT}`);
  }
  if (o.dryRun) return { host, url };

  const check = `http://${listen.host}:${listen.port}/healthz`;
  const get = p.fetcher.endsWith("curl") ? `curl -fsS --max-time 3 ${check}` : `wget -q -T 3 -O - ${check}`;
  const started = performance.now();
  const r = await o.ssh.run(
    host.target,
    `i=0\nwhile [ $i -lt ${o.waitSeconds} ]; do\n  if out=$(${get} 2>/dev/null); then echo "$out"; exit 0; fi\n  sleep 1; i=$((i+1))\ndone\nexit 1`,
  );
  if (r.code !== 0) {
    throw new DeployError(`the head did not answer ${check} within ${o.waitSeconds} s. Its log:\n${await journal(o, host, HEAD_UNIT)}`);
  }
  let health: { status?: string; version?: string; database?: { engine?: string } } = {};
  try {
    health = JSON.parse(r.stdout);
  } catch {
    /* an answer that is not JSON still means it listens; the line below shows what came */
  }
  step(
    `healthy: ${check} answered in ${((performance.now() - started) / 1000).toFixed(1)} s (${health.status ?? r.stdout.trim().slice(0, 80)}, version ${health.version ?? "?"}, ${health.database?.engine ?? "?"})`,
  );
  return { host, url };
}

// ---- agents ------------------------------------------------------------------------------------------------------

/** Runs a `vigil` command on the head with the head's own settings (its data directory, DATABASE_URL). */
function onHead(o: Options, args: string): string {
  const L = layout(o.root);
  return `set -a\nVIGIL_DATA_DIR=${shq(L.headData)}\nif [ -r ${shq(L.headEnv)} ]; then . ${shq(L.headEnv)}; fi\nset +a\nexec ${shq(L.bin)} ${args}`;
}

interface WorkerRow {
  name: string;
  status: string;
  lastSeenAt: string | null;
}

async function workerOnHead(o: Options, head: HeadInfo, name: string): Promise<WorkerRow | undefined> {
  const out = await o.ssh.check(head.host.target, onHead(o, "worker list --json"), "asking the head for its workers");
  return (JSON.parse(out) as WorkerRow[]).find((w) => w.name === name);
}

async function deployAgent(o: Options, host: Host, localSha: string, head: HeadInfo | undefined): Promise<void> {
  const L = layout(o.root);
  const p = await probe(o, host, `${L.unitDir}/${AGENT_UNIT}`, L.agentEnv, AGENT_UNIT);
  checkPlatform(p, host);
  const existing = parseEnvFile(p.env);
  const name = host.settings.VIGIL_WORKER_NAME ?? existing.VIGIL_WORKER_NAME ?? p.hostname;
  const headUrl = host.settings.VIGIL_HEAD ?? head?.url ?? existing.VIGIL_HEAD;
  if (!headUrl) throw new DeployError(`no head URL for ${host.target}: add the head to the run (head:HOST) or VIGIL_HEAD=URL to its line`);
  if (!head)
    throw new DeployError(
      `agents are enrolled and checked through the head: add it to the run (head:HOST); an up-to-date head is left alone`,
    );

  // Settings only count as changed against settings already written: a first install has reasons enough.
  const differs = (key: string) => p.env !== "" && host.settings[key] !== undefined && host.settings[key] !== existing[key];
  const unitOk = p.unit === renderAgentUnit(o.root);
  const reasons = [
    p.agentBin !== localSha && `binary ${short(p.agentBin)} -> ${short(localSha)}`,
    !unitOk && (p.unit ? "unit changed" : "not installed"),
    existing.VIGIL_HEAD !== headUrl && p.env && `head ${existing.VIGIL_HEAD} -> ${headUrl}`,
    differs("VIGIL_WORKER_NAME") && "name",
    differs("VIGIL_RESTART_ALLOW") && "restart allow-list",
    differs("VIGIL_TOKEN") && "token",
    p.active !== "active" && p.unit && `service ${p.active || "not running"}`,
  ].filter(Boolean) as string[];

  if (reasons.length === 0) {
    step(`agent ${name}: up to date (${short(localSha)}), running`);
    if (o.dryRun) return;
    await waitSeen(o, host, head, name, null);
    return;
  }
  const would = o.dryRun ? "would " : "";
  step(`agent ${name}: ${would}install through install.sh (${reasons.join("; ")})`);

  let token = host.settings.VIGIL_TOKEN ?? existing.VIGIL_TOKEN;
  if (!token) {
    const known = await workerOnHead(o, head, name).catch(() => undefined);
    if (known && known.lastSeenAt) {
      throw new DeployError(
        `worker ${name} is already enrolled with the head, but ${host.target} has no agent settings (${L.agentEnv}). If this machine was reinstalled, run 'vigil worker rotate ${name}' on the head and put VIGIL_TOKEN=... on its line in deploy/hosts; otherwise give it another VIGIL_WORKER_NAME`,
      );
    }
    if (o.dryRun) {
      step(`enrollment: would run 'vigil worker add ${name}' on ${head.host.target}`);
    } else {
      token = (await o.ssh.check(head.host.target, onHead(o, `worker add ${shq(name)}`), `enrolling ${name} with the head`)).trim();
      step(`enrollment: 'vigil worker add ${name}' on ${head.host.target} gave a one-time token`);
    }
  }
  if (o.dryRun) return;

  const args = [
    "--binary",
    `"$dir/vigil"`,
    "--head",
    shq(headUrl),
    "--name",
    shq(name),
    ...(token ? ["--token", shq(token)] : []),
    ...(host.settings.VIGIL_RESTART_ALLOW !== undefined ? ["--allow", shq(host.settings.VIGIL_RESTART_ALLOW)] : []),
  ].join(" ");
  const dir = (await o.ssh.check(host.target, `mktemp -d "\${TMPDIR:-/tmp}/vigil-deploy.XXXXXX"`, "making a temp directory")).trim();
  try {
    await o.ssh.check(host.target, `cat > ${shq(dir)}/vigil && chmod 0755 ${shq(dir)}/vigil`, "copying the binary", { file: o.binary });
    await o.ssh.check(host.target, `cat > ${shq(dir)}/install.sh`, "copying install.sh", { text: renderInstallScript(headUrl) });
    const env = o.root ? `VIGIL_INSTALL_ROOT=${shq(o.root)} ` : "";
    const r = await o.ssh.run(host.target, `dir=${shq(dir)}\n${env}sh "$dir/install.sh" ${args} 2>&1`);
    for (const line of r.stdout.trimEnd().split("\n")) step(`  ${line}`);
    if (r.code !== 0) throw new DeployError(`install.sh failed on ${host.target} (exit ${r.code}); its output is above`);
  } finally {
    await o.ssh.run(host.target, `rm -rf ${shq(dir)}`).catch(() => undefined);
  }
  // The head's clock, after install.sh restarted the agent: a later lastSeenAt is the new process talking.
  const since = Number((await o.ssh.check(head.host.target, "date +%s%3N", "reading the head's clock")).trim());
  await waitSeen(o, host, head, name, since);
}

async function waitSeen(o: Options, host: Host, head: HeadInfo, name: string, sinceMs: number | null): Promise<void> {
  const deadline = Date.now() + o.waitSeconds * 1000;
  const started = performance.now();
  let last: WorkerRow | undefined;
  while (Date.now() < deadline) {
    last = await workerOnHead(o, head, name);
    const seen = last?.lastSeenAt ? Date.parse(last.lastSeenAt) : NaN;
    if (last?.status === "online" && (sinceMs === null || seen > sinceMs)) {
      step(`seen by the head: ${name} online (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      return;
    }
    await Bun.sleep(1000);
  }
  const state = last ? `status ${last.status}, last seen ${last.lastSeenAt ?? "never"}` : "the head does not know it";
  throw new DeployError(
    `the head has not heard from ${name} within ${o.waitSeconds} s (${state}). The agent's log on ${host.target}:\n${await journal(o, host, AGENT_UNIT)}`,
  );
}

// ---- the run -----------------------------------------------------------------------------------------------------

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: "string" },
      inventory: { type: "string" },
      binary: { type: "string" },
      "dry-run": { type: "boolean" },
      wait: { type: "string" },
      "ssh-config": { type: "string" },
      root: { type: "string" },
      "remote-path": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  let hosts: Host[];
  if (values.hosts?.trim()) {
    if (values.inventory) throw new InventoryError("give --hosts (HOSTS=) or --inventory, not both");
    hosts = parseHostsList(values.hosts);
  } else {
    const file = values.inventory ?? (existsSync("deploy/hosts") ? "deploy/hosts" : undefined);
    if (!file)
      throw new InventoryError(
        'which hosts? make deploy HOSTS="head:vigil-01,gpu-01", or list them in deploy/hosts (see deploy/hosts.example)',
      );
    if (!existsSync(file)) throw new InventoryError(`${file}: no such file`);
    hosts = parseInventory(readFileSync(file, "utf8"), file);
  }
  const binary = resolve(values.binary ?? "dist/vigil");
  if (!existsSync(binary) || !statSync(binary).isFile())
    throw new InventoryError(`${binary}: no such file; run make build first (make deploy does)`);
  const waitSeconds = Number(values.wait ?? 60);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 3600)
    throw new InventoryError(`--wait ${values.wait}: expected whole seconds, 1-3600`);
  const root = (values.root ?? "").replace(/\/$/, "");
  if (root && !root.startsWith("/")) throw new InventoryError(`--root ${root}: must be an absolute path`);
  if (values["ssh-config"] && !existsSync(values["ssh-config"]))
    throw new InventoryError(`--ssh-config ${values["ssh-config"]}: no such file`);
  const controlDir = mkdtempSync(join(tmpdir(), "vd-"));
  return {
    hosts: ordered(hosts),
    binary,
    dryRun: values["dry-run"] ?? false,
    waitSeconds,
    root,
    ssh: new Ssh({ config: values["ssh-config"], controlDir, remotePath: values["remote-path"] }),
    controlDir,
  };
}

async function main(argv: string[]): Promise<number> {
  let o: Options | undefined;
  try {
    o = options(argv);
  } catch (err) {
    console.error(`deploy: ${(err as Error).message}`);
    return 2;
  }
  if (!o) return 0;
  const localSha = new Bun.CryptoHasher("sha256").update(readFileSync(o.binary)).digest("hex");
  const mib = (statSync(o.binary).size / 2 ** 20).toFixed(1);
  say(
    `deploy${o.dryRun ? " (dry run: nothing will change)" : ""}: ${o.hosts.length} host(s), ${o.binary} (${mib} MiB, sha256 ${short(localSha)})${o.root ? `, under ${o.root}` : ""}`,
  );
  const started = performance.now();
  let head: HeadInfo | undefined;
  try {
    for (const [i, host] of o.hosts.entries()) {
      say(`[${i + 1}/${o.hosts.length}] ${host.role} ${host.target}`);
      try {
        if (host.role === "head") head = await deployHead(o, host, localSha);
        else await deployAgent(o, host, localSha, head);
      } catch (err) {
        const why = err instanceof DeployError || err instanceof SshError ? err.message : (err as Error).message;
        const untouched = o.hosts.slice(i + 1).map((h) => h.target);
        console.error(`\ndeploy: stopped at ${host.target} (${host.role}): ${why}`);
        if (untouched.length) console.error(`deploy: not touched: ${untouched.join(", ")}`);
        return 1;
      }
    }
  } finally {
    await Promise.all(o.hosts.map((h) => o.ssh.close(h.target)));
    rmSync(o.controlDir, { recursive: true, force: true });
  }
  say(`${o.dryRun ? "dry run done" : "deployed"}: ${o.hosts.length} host(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (import.meta.main) process.exit(await main(Bun.argv.slice(2)));
