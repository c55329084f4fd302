// `vigil serve`: run the head until SIGTERM or SIGINT, then flush pending writes, close the database and exit 0.
import { parseCommandConfig } from "../config.ts";
import { HEAD_SETTINGS } from "../head/context.ts";
import { log, setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "run the head: dashboard, JSON API, storage and loops (watches this machine too)",
  usage: "vigil serve [options]",
  settings: HEAD_SETTINGS,
  details: "Stores history in an embedded PostgreSQL (PGlite) under --data-dir unless DATABASE_URL names a server.",
  async run(argv) {
    const { config } = parseCommandConfig("serve", HEAD_SETTINGS, argv);
    setLogLevel(config.logLevel);
    // Loaded here, not at the top: `vigil agent` and `vigil version` must not pay for the head.
    const { startHead } = await import("../head/head.ts");
    // Signals are taken from the start: a SIGTERM while the embedded database is first initialised (seconds) would
    // otherwise end the process mid-write. Asked to stop while starting, the head finishes starting, then stops.
    let head: Awaited<ReturnType<typeof startHead>> | undefined;
    let stopping = false;
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    const onSignal = (signal: string) => {
      if (stopping) {
        log.warn("second signal during shutdown; exiting now", { signal });
        process.exit(1);
      }
      stopping = true;
      if (!head) {
        log.info("stop asked while starting; stopping as soon as the database is open", { signal });
        return;
      }
      log.info("shutting down", { signal });
      void head.stop().then(stopped);
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
    head = await startHead(config);
    if (stopping) {
      log.info("shutting down", { reason: "stop asked while starting" });
      await head.stop();
      stopped();
    }
    await done;
    log.info("stopped cleanly");
    return 0;
  },
};
