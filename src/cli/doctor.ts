// `vigil doctor`: the pre-flight checklist from the command line; exits 1 when a critical check fails, so scripts can gate on it.
import { parseCommandConfig } from "../config.ts";
import type { Preflight } from "../health/preflight.ts";
import { setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";
import { printTable } from "./output.ts";

const settings = ["dataDir", "databaseUrl", "json", "logLevel", "pgliteSharedBuffers"] as const;

const MARK = { pass: "ok", fail: "FAIL", pending: "…" } as const;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "run the pre-flight checklist; exit 1 if a critical check fails",
  usage: "vigil doctor [--json] [options]",
  settings,
  details:
    "Reads the state the head last recorded: migrations current, a worker online, each critical service\n" +
    "healthy (its latest check), required files present, notification channels configured, and any\n" +
    "admin overrides in force. While a head holds the data directory it asks that head; otherwise it\n" +
    "reads the database itself (it never migrates it). Exit codes: 0 ready, 1 not ready, 2 bad settings.\n" +
    "GET /api/v1/ready answers the same question over HTTP (200 or 503).",
  async run(argv) {
    const { config } = parseCommandConfig("doctor", settings, argv);
    setLogLevel(config.logLevel);
    const { runOperation } = await import("../admin/client.ts");
    const report = (await runOperation(config, "preflight.report", {}, { migrate: false })) as Preflight;
    if (config.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      printTable(
        ["", "check", "critical", "result"],
        report.items.map((i) => [
          i.override ? "override" : MARK[i.state],
          i.label,
          i.critical ? "yes" : "no",
          i.override ? `${i.message} (overridden by ${i.override.by} until ${i.override.expiresAt}: ${i.override.reason})` : i.message,
        ]),
      );
      console.log(report.ready ? "\nready" : `\nNOT READY: ${report.failing.join(", ")}`);
    }
    return report.ready ? 0 : 1;
  },
};
