// Terminal helpers for the CLI: aligned tables, and secrets read from standard input.
import { ConfigError } from "../config.ts";

export function printTable(header: string[], rows: string[][]): void {
  const clipCell = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
  const all = [header, ...rows.map((r) => r.map(clipCell))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  for (const r of all)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

/** Reads a secret piped in (`echo "$PW" | vigil user add ...`); the trailing newline is not part of it. */
export async function readSecretFromStdin(what: string): Promise<string> {
  const text = await Bun.stdin.text();
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new ConfigError(`--password-stdin: no ${what} on standard input`);
  return secret;
}
