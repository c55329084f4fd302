// The units and settings files `make deploy` writes or expects on a host, with their paths under the install root.
import headUnit from "../systemd/vigil-head.service" with { type: "text" };
import agentUnit from "../systemd/vigil-agent.service" with { type: "text" };

/** Where things live on a host, under `root` ("" for /; tests use a temp directory). */
export function layout(root: string) {
  return {
    bin: `${root}/usr/local/bin/vigil`,
    unitDir: `${root}/etc/systemd/system`,
    etcDir: `${root}/etc/vigil`,
    headEnv: `${root}/etc/vigil/head.env`,
    agentEnv: `${root}/etc/vigil/agent.env`,
    headData: `${root}/var/lib/vigil`,
    agentBin: `${root}/var/lib/vigil-agent/bin/vigil`,
  };
}

export const HEAD_UNIT = "vigil-head.service";
export const AGENT_UNIT = "vigil-agent.service";

/** The head's unit as installed: scripts/systemd/vigil-head.service with its paths moved under `root`. */
export function renderHeadUnit(root: string): string {
  if (!root) return headUnit as string;
  // Only option lines: the comments keep naming the real paths.
  return (headUnit as string)
    .split("\n")
    .map((line) =>
      line.startsWith("#")
        ? line
        : line
            .replaceAll("/usr/local/bin/vigil", `${root}/usr/local/bin/vigil`)
            .replaceAll("/etc/vigil/", `${root}/etc/vigil/`)
            .replace(/=\/var\/lib\/vigil\b/g, `=${root}/var/lib/vigil`),
    )
    .join("\n");
}

/**
 * The agent's unit as install.sh writes it (its write_unit: the template trimmed, paths moved under the root), so
 * deploy can tell an agent whose unit is current from one that needs install.sh again.
 */
export function renderAgentUnit(root: string): string {
  const text = (agentUnit as string).trimEnd() + "\n";
  return root
    ? text.replaceAll("/var/lib/vigil-agent", `${root}/var/lib/vigil-agent`).replaceAll("/etc/vigil/", `${root}/etc/vigil/`)
    : text;
}

/** KEY=VALUE lines of an environment file (comments and blanks skipped, one level of quotes removed). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = /^'(.*)'$/.exec(value) ?? /^"(.*)"$/.exec(value);
    if (q) value = q[1]!;
    out[m[1]!] = value;
  }
  return out;
}

/**
 * head.env from the existing file's settings with the inventory's on top. Values are single-quoted, which both
 * systemd's EnvironmentFile= and a POSIX shell read the same way; a value holding ' is refused (neither agrees on it).
 */
export function renderHeadEnv(existing: Record<string, string>, settings: Record<string, string>): string {
  const merged = { ...existing, ...settings };
  const lines = ["# Vigil head settings (make deploy keeps what is here and sets what deploy/hosts names). Read by systemd as root."];
  for (const [key, value] of Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))) {
    if (value.includes("'")) throw new Error(`${key}: a value with ' cannot go into head.env; leave it out of deploy/hosts`);
    lines.push(`${key}='${value}'`);
  }
  return lines.join("\n") + "\n";
}

/** One word for a POSIX shell on the far side of ssh, which re-reads the command line it is given. */
export function shq(value: string): string {
  return /^[A-Za-z0-9_./:=@,+%-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
