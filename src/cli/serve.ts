// `vigil serve`: run the head until SIGTERM or SIGINT, then flush pending writes, close the database and exit 0.
import { hostname } from "node:os";
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
    const [{ startHead }, { setHeadAddress }] = await Promise.all([import("../head/head.ts"), import("../admin/socket.ts")]);
    setHeadAddress({
      workerUrl: config.publicUrl ?? `http://${hostname()}:${config.listen.port}`,
      configured: config.publicUrl !== undefined,
    });
    const head = await startHead(config);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (signal: string) => {
        if (stopping) {
          log.warn("second signal during shutdown; exiting now", { signal });
          process.exit(1);
        }
        stopping = true;
        log.info("shutting down", { signal });
        void head.stop().then(resolve);
      };
      process.on("SIGTERM", () => onSignal("SIGTERM"));
      process.on("SIGINT", () => onSignal("SIGINT"));
    });
    log.info("stopped cleanly");
    return 0;
  },
};
