// `vigil agent`: the worker mode. `--once --json` prints one sample; `--json` streams one per interval on stdout.
import { ConfigError, parseCommandConfig } from "../config.ts";
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
] as const;

export const agentCommand: Command = {
  name: "agent",
  summary: "run as a worker's agent: collect this machine's vitals",
  usage: "vigil agent --once --json | vigil agent --json [--interval S]",
  settings,
  details:
    "--once --json collects one sample and prints it as the wire JSON (no head needed).\n" +
    "--json without --once prints one sample per interval, one JSON object a line, until interrupted.\n" +
    "Pushing to a head (--head URL --token TOKEN) needs agent enrollment, which this version does not have yet.",
  async run(argv) {
    const { config } = parseCommandConfig("agent", settings, argv);
    setLogLevel(config.logLevel);
    if (config.head || config.token) {
      throw new ConfigError("agent: pushing to a head (--head/--token) is not available in this version; use --once --json or --json");
    }
    if (!config.json) throw new ConfigError("agent: say --json (with --once for a single sample); see 'vigil agent --help'");
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
