// argv -> command: picks the subcommand, prints help, and turns errors into one line and an exit code.
import { COMMANDS } from "./cli/index.ts";
import { ConfigError, formatOptions } from "./config.ts";
import { DatabaseError } from "./db/errors.ts";
import { DataDirBusy } from "./db/lock.ts";
import { log } from "./log.ts";
import { VERSION_STRING } from "./version.ts";
import { InputError } from "./auth/text.ts";

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "vigil: watches a fleet of GPU machines (head and agent in one binary)",
    "",
    "usage: vigil <command> [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'vigil <command> --help' for a command's options. Flags override VIGIL_* environment variables.",
  ].join("\n");
}

function commandHelp(name: string): string | undefined {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) return undefined;
  return [`usage: ${c.usage}`, "", c.summary, "", "options:", formatOptions(c.settings), ...(c.details ? ["", c.details] : [])].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // scripts/build.ts bakes in a JIT policy that keeps the agent in the interpreter (less memory, see BENCHMARKS.md);
  // every other command, the head above all, gets the normal policy back. From source this is the default anyway.
  if (name !== "agent") Bun.unsafe.setJITPolicy(1);
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    const text = topic ? commandHelp(topic) : mainHelp();
    if (!text) {
      console.error(`vigil: unknown command '${topic}'; run 'vigil --help'`);
      return 2;
    }
    console.log(text);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(VERSION_STRING);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`vigil: unknown command '${name}'; run 'vigil --help'`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(commandHelp(name));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`vigil ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof DatabaseError || err instanceof DataDirBusy || err instanceof InputError) {
      console.error(`vigil ${name}: ${err.message}`);
      return 1;
    }
    // Anything else is a bug or an unexpected system state: log it with context, one line for people.
    log.error("fatal error", { command: name, error: err });
    console.error(`vigil ${name}: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
