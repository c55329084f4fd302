// `vigil agent`: the worker mode. `--once --json` prints one sample; `--json` streams one per interval on stdout.
import { createProbeRunner } from "../../agent/probe/index.ts";
import { ConfigError, parseCommandConfig, type Config } from "../config.ts";
import { VERSION } from "../version.ts";
import { createSampler } from "../../agent/sampler.ts";
import { log, setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";

const settings = [
  "head",
  "token",
  "once",
  "json",
  "interval",
  "workerName",
  "logLevel",
  "procRoot",
  "sysRoot",
  "nvmlLib",
  "nvidiaSmi",
  "netInclude",
  "netExclude",
  "dockerDir",
  "agentDir",
  "restartAllow",
  "restartAllowFile",
  "restartVia",
  "spoolMax",
  "spoolMaxAge",
  "probePaths",
] as const;

export const agentCommand: Command = {
  name: "agent",
  summary: "run as a worker's agent: collect this machine's vitals",
  usage: "vigil agent --head URL [--token TOKEN] | vigil agent --once --json | vigil agent --json [--interval S]",
  settings,
  details:
    "--once --json collects one sample and prints it as the wire JSON (no head needed).\n" +
    "--json without --once prints one sample per interval, one JSON object a line, until interrupted.\n" +
    "--head URL --token TOKEN: enroll with the token from 'vigil worker add' (once; the secret is kept in\n" +
    "VIGIL_AGENT_DIR), then push every sample, spooled on disk until the head acknowledges it.\n" +
    "The worker's name is the one given to 'vigil worker add NAME' (the token carries it): --name does not\n" +
    "rename it, and the agent warns when they differ. --json output carries the host name, not --name.",
  async run(argv) {
    const { config } = parseCommandConfig("agent", settings, argv);
    setLogLevel(config.logLevel);
    // Told apart from the host-name default: only a name someone chose is checked against the enrolled one.
    const explicitName =
      argv.some((a) => a === "--name" || a.startsWith("--name=")) || process.env.VIGIL_WORKER_NAME ? config.workerName : undefined;
    if (config.head) return pushToHead(config, explicitName);
    if (config.token) throw new ConfigError("--token needs --head URL (or VIGIL_HEAD)");
    if (!config.json) throw new ConfigError("say --head URL to push to a head, or --json to print samples; see 'vigil agent --help'");
    const sampler = createSampler({ ...config, log });
    await sampler.prime();
    // Rates (CPU %, I/O) need two readings; a short gap gives --once real numbers.
    await Bun.sleep(config.once ? 250 : config.interval * 1000);
    if (config.once) {
      process.stdout.write(JSON.stringify(await sampler.next(), null, 2) + "\n");
      sampler.close();
      return 0;
    }
    let stop = false;
    process.on("SIGINT", () => (stop = true));
    process.on("SIGTERM", () => (stop = true));
    while (!stop) {
      const started = Date.now();
      process.stdout.write(JSON.stringify(await sampler.next()) + "\n");
      await Bun.sleep(Math.max(0, config.interval * 1000 - (Date.now() - started)));
    }
    sampler.close();
    return 0;
  },
};

/**
 * A worker's name is the one given to 'vigil worker add NAME' on the head: the enrollment token
 * carries it, and the head keeps it. A --name (or VIGIL_WORKER_NAME) that differs is not used, and says so.
 */
export function nameMismatch(configured: string | undefined, enrolled: string): string | undefined {
  if (configured === undefined || configured === enrolled) return undefined;
  return `--name ${configured} is not used: this agent is enrolled as ${enrolled}, the name given to 'vigil worker add' on the head; to change it, add a worker with the new name there and re-run the installer with its token`;
}

/** Worker mode: enroll, sample, spool, push; restart commands checked against the allow-list; self-update. */
async function pushToHead(config: Readonly<Pick<Config, (typeof settings)[number]>>, explicitName: string | undefined): Promise<number> {
  const [{ startPushAgent, EnrollmentFailed }, { RestartExecutor }, { loadAllowList }, { selfUpdate, RESTART_EXIT_CODE }] =
    await Promise.all([
      import("../../agent/push.ts"),
      import("../../agent/restart/executor.ts"),
      import("../../agent/restart/allowlist.ts"),
      import("../../agent/update.ts"),
    ]);
  let allow: string[];
  try {
    allow = loadAllowList({ env: config.restartAllow, file: config.restartAllowFile });
  } catch (err) {
    throw new ConfigError(`VIGIL_RESTART_ALLOW: ${(err as Error).message}`);
  }
  const sampler = createSampler({ ...config, log });
  await sampler.prime();
  const executor = new RestartExecutor({
    allow,
    via: config.restartVia,
    procRoot: config.procRoot,
    gpuPids: async () => sampler.gpuPids(),
    log,
  });
  let agent: Awaited<ReturnType<typeof startPushAgent>>;
  try {
    agent = await startPushAgent({
      head: config.head!,
      stateDir: config.agentDir,
      token: config.token,
      version: VERSION,
      intervalSeconds: config.interval,
      restartAllow: allow,
      // Logs only of units it may restart, files only under the directories named.
      probe: createProbeRunner({ logUnits: allow, paths: [...config.probePaths] }),
      spoolMaxBytes: config.spoolMax,
      spoolMaxAgeMs: config.spoolMaxAge * 1000,
      sample: () => sampler.next(),
      setNextSeq: (n) => sampler.setNextSeq(n),
      log,
      onRestart: (cmd, report) => void executor.run(cmd, (s) => report({ type: "restart-status", ...s })),
      onUpdate: (notice) => {
        void selfUpdate({ head: config.head!, path: notice.path, sha256: notice.sha256, log })
          .then(async (r) => {
            if (r !== "updated") return;
            log.info("updated to the head's version; exiting for systemd to start it", { version: notice.version });
            await agent.stop();
            process.exit(RESTART_EXIT_CODE);
          })
          .catch((err: unknown) => log.error("self-update failed; staying on this version", { error: err }));
      },
    });
  } catch (err) {
    if (err instanceof EnrollmentFailed) throw new ConfigError(err.message);
    throw err;
  }
  log.info("agent running", { worker: agent.credential.name, head: config.head, intervalSeconds: config.interval, restartable: allow });
  const note = nameMismatch(explicitName, agent.credential.name);
  if (note) log.warn(note, { worker: agent.credential.name, configured: explicitName });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  executor.close();
  await agent.stop();
  sampler.close();
  return 0;
}
