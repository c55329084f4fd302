// The command registry of the `vigil` binary (adding a command is one file and one line here).
import type { Command } from "./command.ts";
import { serveCommand } from "./serve.ts";
import { agentCommand } from "./agent.ts";
import { migrateCommand } from "./migrate.ts";
import { versionCommand } from "./version.ts";
import { userCommand } from "./user.ts";
import { tokenCommand } from "./token.ts";
import { workerCommand } from "./worker.ts";
import { simulateCommand } from "./simulate.ts";
import { doctorCommand } from "./doctor.ts";

export const COMMANDS: readonly Command[] = [
  serveCommand,
  agentCommand,
  workerCommand,
  userCommand,
  tokenCommand,
  simulateCommand,
  migrateCommand,
  doctorCommand,
  versionCommand,
];
