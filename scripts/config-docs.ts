// Renders docs/configuration.md from the settings table in src/config.ts; `--check` exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { SETTINGS, type Config } from "../src/config.ts";
import { COMMANDS } from "../src/cli/index.ts";

type Key = keyof Config;

export const DOC_PATH = resolve(import.meta.dir, "../docs/configuration.md");

/**
 * Defaults that src/config.ts computes on the machine that runs it. The page must read the same on
 * every machine, so it states the rule; the test checks that the computed value is one of these.
 */
export const MACHINE_DEPENDENT_DEFAULTS: Partial<Record<Key, { text: string; values: string[] }>> = {
  agentDir: { text: "`/var/lib/vigil-agent` as root, else `./vigil-agent`", values: ["/var/lib/vigil-agent", "./vigil-agent"] },
};

/** Text from the config table may hold characters that Markdown reads as table cells or emphasis. */
function escapeCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\*/g, "\\*").replace(/</g, "&lt;");
}

/** Splits "what it does (default: X)" into its meaning and the default it names. */
function splitHelp(help: string): { meaning: string; defaultText: string | undefined } {
  const m = /\s*\(default: ([^)]*)\)/.exec(help);
  if (!m) return { meaning: help, defaultText: undefined };
  return { meaning: (help.slice(0, m.index) + help.slice(m.index + m[0].length)).trim(), defaultText: m[1] };
}

function defaultCell(key: Key): string {
  const machine = MACHINE_DEPENDENT_DEFAULTS[key];
  if (machine) return machine.text;
  const s = SETTINGS[key];
  if (s.default !== undefined) return s.default === "" ? "(none)" : `\`${s.default}\``;
  const fromHelp = splitHelp(s.help).defaultText;
  return fromHelp !== undefined ? escapeCell(fromHelp) : "(none)";
}

function flagCell(key: Key): string {
  const s = SETTINGS[key];
  if (!s.flag) return "";
  return `\`--${s.flag}\``;
}

function meaningCell(key: Key): string {
  const s = SETTINGS[key];
  const meaning = escapeCell(splitHelp(s.help).meaning.replace(/\s*\(env: false\)/, ""));
  // A `--no-x` flag switches off a setting that is on by default; its variable does the same with `false`.
  if (s.flag?.startsWith("no-") && s.env) return `${meaning} (the flag, or \`${s.env}=false\`)`;
  return meaning;
}

/** Settings in the order a reader meets them: command by command, each in its --help order. */
function orderedKeys(): Key[] {
  const seen = new Set<Key>();
  for (const c of COMMANDS) for (const k of c.settings) seen.add(k);
  for (const k of Object.keys(SETTINGS) as Key[]) seen.add(k);
  return [...seen];
}

function commandsOf(key: Key): string[] {
  return COMMANDS.filter((c) => c.settings.includes(key)).map((c) => c.name);
}

export function renderConfigurationDoc(): string {
  const out: string[] = [];
  out.push("# Configuration reference");
  out.push("");
  out.push("<!-- Generated from src/config.ts by `bun scripts/config-docs.ts`. Do not edit by hand:");
  out.push("     test/docs/configuration.test.ts fails when this file and the code disagree. -->");
  out.push("");
  out.push("Every setting of every `vigil` command, from the same table that parses them. A setting is");
  out.push("read from its flag, else from its environment variable, else it takes its default. A bad value");
  out.push("stops the program with one line that names the setting, and exit code 2. `vigil COMMAND --help`");
  out.push("prints the same settings for one command.");
  out.push("");
  out.push("Value formats:");
  out.push("");
  out.push("- true or false: `true`, `false`, `1`, `0`, `yes`, `no`, `on`, `off`. A boolean flag takes no value.");
  out.push("- durations: a number with `s`, `m`, `h` or `d` (`90s`, `30m`, `12h`, `7d`); plain numbers are seconds;");
  out.push("  at least one minute.");
  out.push("- intervals (`--interval`, `VIGIL_PROCESS_INTERVAL`): seconds (`1`, `2.5`) or milliseconds (`500ms`),");
  out.push("  from 100 ms to 3600 s; `VIGIL_PROCESS_INTERVAL` also takes an `s` suffix (`10s`).");
  out.push("- sizes: `VIGIL_SPOOL_MAX` takes bytes or `KB`, `MB`, `GB` (powers of 1024, at least 16KB);");
  out.push("  `VIGIL_PGLITE_SHARED_BUFFERS` takes PostgreSQL's `kB`, `MB`, `GB`.");
  out.push("- lists: comma-separated, spaces around the commas ignored.");
  out.push("- an environment variable set to the empty string counts as not set.");
  out.push("");
  out.push("Environment files for the systemd units (`/etc/vigil/head.env`, `/etc/vigil/agent.env`) hold");
  out.push("these variables as `NAME=value` lines; see [install.md](install.md).");
  out.push("");
  out.push("## Settings by command");
  out.push("");
  out.push("| command | settings |");
  out.push("|---|---|");
  for (const c of COMMANDS) {
    const names = c.settings.map((k) => {
      const s = SETTINGS[k];
      return s.flag ? `\`--${s.flag}\`` : `\`${s.env}\``;
    });
    out.push(`| \`vigil ${c.name}\` | ${names.length ? names.join(", ") : "(none)"} |`);
  }
  out.push("");
  out.push("## All settings");
  out.push("");
  out.push("| environment | flag | default | commands | meaning |");
  out.push("|---|---|---|---|---|");
  for (const key of orderedKeys()) {
    const s = SETTINGS[key];
    const env = s.env ? `\`${s.env}\`` : "";
    const commands = commandsOf(key);
    const commandCell = commands.length ? commands.join(", ") : "(none)";
    out.push(`| ${env} | ${flagCell(key)} | ${defaultCell(key)} | ${commandCell} | ${meaningCell(key)} |`);
  }
  out.push("");
  return out.join("\n");
}

/** The first line where two texts differ, for a message a person can act on. */
export function firstDifference(committed: string, generated: string): string | undefined {
  if (committed === generated) return undefined;
  const a = committed.split("\n");
  const b = generated.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  committed: ${a[i] ?? "(end of file)"}\n  generated: ${b[i] ?? "(end of file)"}`;
  }
  return "the files differ only in line endings";
}

if (import.meta.main) {
  const generated = renderConfigurationDoc();
  // An optional path replaces docs/configuration.md (the test checks a stale copy this way).
  const path = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? DOC_PATH;
  if (process.argv.includes("--check")) {
    let committed = "";
    try {
      committed = readFileSync(path, "utf8");
    } catch (err) {
      console.error(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code}); run \`bun scripts/config-docs.ts\``);
      process.exit(1);
    }
    const diff = firstDifference(committed, generated);
    if (diff) {
      console.error(`${path} is stale; run \`bun scripts/config-docs.ts\` to regenerate. First difference at ${diff}`);
      process.exit(1);
    }
    console.log(`${path} is up to date`);
  } else {
    writeFileSync(path, generated);
    console.log(`wrote ${path}`);
  }
}
