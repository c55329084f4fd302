// `vigil worker add|rotate|revoke|remove|list`: register workers and manage their agents' credentials from the head's shell.
import { hostname } from "node:os";
import { ConfigError, parseCommandConfig } from "../config.ts";
import type { HeadAddress, OperationName } from "../admin/operations.ts";
import type { EnrollmentTicket } from "../fleet/enrollment.ts";
import type { WorkerSummary } from "../fleet/workers.ts";
import { setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";
import { printTable } from "./output.ts";

const settings = ["publicUrl", "json", "dataDir", "databaseUrl", "logLevel", "pgliteSharedBuffers"] as const;

export const workerCommand: Command = {
  name: "worker",
  summary: "register workers and manage their agents: add, rotate, revoke, remove, list",
  usage: "vigil worker add NAME | rotate NAME | revoke NAME | remove NAME | list [--json]",
  settings,
  details:
    "add prints a one-time enrollment token (valid 7 days) and the line to run on the worker; the agent\n" +
    "exchanges the token for its own secret on first contact. rotate ends the current secret and gives a\n" +
    "new token; revoke cuts the agent off and keeps its history; remove deletes the worker and its history.",
  async run(argv) {
    const { config, positionals } = parseCommandConfig("worker", settings, argv);
    setLogLevel(config.logLevel);
    const run = async (op: OperationName, args: Record<string, unknown>) =>
      (await import("../admin/client.ts")).runOperation(config, op, args);
    const [action, name, ...extra] = positionals;
    if (extra.length) throw new ConfigError(`worker: unexpected argument '${extra[0]}'`);
    const needName = () => {
      if (!name) throw new ConfigError(`worker ${action}: which worker? e.g. vigil worker ${action} gpu-07`);
      return name;
    };
    const printTicket = (t: EnrollmentTicket & { head?: HeadAddress }) => {
      // The URL workers use: this shell's VIGIL_PUBLIC_URL, else what the running head says of itself,
      // else (no head running) a guess.
      const head = config.publicUrl ?? t.head?.workerUrl ?? `http://${hostname()}:8480`;
      console.error(`enrollment token for ${t.name}, valid until ${new Date(t.expiresAt).toISOString()}, shown once:`);
      console.log(t.token);
      console.error(`\nOn ${t.name}, as root:\n  curl -fsSL ${head}/install.sh | sudo sh -s -- --token ${t.token} --name ${t.name}`);
      if (config.publicUrl || t.head?.configured) return;
      if (t.head)
        console.error(
          `(the head has no VIGIL_PUBLIC_URL, so ${head} is its host name and listen port; set VIGIL_PUBLIC_URL on the head if workers reach it at another address)`,
        );
      else console.error(`(set VIGIL_PUBLIC_URL to the address workers reach the head at; ${head} is a guess)`);
    };
    switch (action) {
      case "add":
        printTicket((await run("worker.add", { name: needName() })) as EnrollmentTicket);
        return 0;
      case "rotate":
        printTicket((await run("worker.rotate", { name: needName() })) as EnrollmentTicket);
        console.error("the old secret no longer works; the agent must enroll again with this token");
        return 0;
      case "revoke":
        await run("worker.revoke", { name: needName() });
        console.error(`revoked ${name}: its agent is refused from its next message; history kept`);
        return 0;
      case "remove":
        await run("worker.remove", { name: needName() });
        console.error(`removed ${name} and its history`);
        return 0;
      case "list": {
        const r = (await run("worker.list", {})) as { workers: WorkerSummary[] };
        if (config.json) console.log(JSON.stringify(r.workers, null, 2));
        else
          printTable(
            ["ID", "NAME", "KIND", "STATUS", "GPUS", "LAST SEEN"],
            r.workers.map((w) => [String(w.id), w.name, w.kind, w.status, String(w.gpuCount), w.lastSeenAt ?? "never"]),
          );
        return 0;
      }
      default:
        throw new ConfigError(
          `worker: expected add, rotate, revoke, remove or list${action ? `, not '${action}'` : ""}; see 'vigil worker --help'`,
        );
    }
  },
};
