// Which hosts `make deploy` touches, in what role and with which settings: HOSTS="head:h1,h2" or a deploy/hosts file.

export type Role = "head" | "agent";

export interface Host {
  role: Role;
  /** What one would type after `ssh`: host, user@host, or an alias from ~/.ssh/config. */
  target: string;
  /** KEY=VALUE settings from the inventory: head.env entries for a head, install.sh's settings for an agent. */
  settings: Record<string, string>;
  /** Where it came from, for messages: "HOSTS" or "deploy/hosts:3". */
  origin: string;
}

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

/** The settings an agent line may carry: install.sh writes agent.env from exactly these. */
export const AGENT_SETTINGS = ["VIGIL_HEAD", "VIGIL_TOKEN", "VIGIL_WORKER_NAME", "VIGIL_RESTART_ALLOW"] as const;

// ssh's own rules would allow more; this keeps a target from ever reading as an option (-oProxyCommand=...) or as
// shell text in a message.
const TARGET = /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9._-]*$|^(?:[A-Za-z0-9._-]+@)?\[[0-9A-Fa-f:.]+\]$/;
const KEY = /^VIGIL_[A-Z0-9_]+$|^DATABASE_URL$/;

function parseTarget(raw: string, origin: string): string {
  if (!TARGET.test(raw)) throw new InventoryError(`${origin}: '${raw}' is not an SSH target (host, user@host or an ~/.ssh/config alias)`);
  return raw;
}

function parseRole(raw: string, origin: string): Role {
  if (raw === "head" || raw === "agent") return raw;
  throw new InventoryError(`${origin}: role '${raw}' is neither head nor agent`);
}

function checkSettings(role: Role, settings: Record<string, string>, origin: string): void {
  for (const [key, value] of Object.entries(settings)) {
    if (!KEY.test(key)) throw new InventoryError(`${origin}: '${key}' is not a Vigil setting (VIGIL_* or DATABASE_URL)`);
    // One line of an environment file each; a newline would smuggle in a second setting.
    if (/[\n\r\0]/.test(value)) throw new InventoryError(`${origin}: ${key} holds a line break`);
    if (role === "agent" && !(AGENT_SETTINGS as readonly string[]).includes(key)) {
      throw new InventoryError(
        `${origin}: an agent line takes ${AGENT_SETTINGS.join(", ")}; set ${key} in the worker's /etc/vigil/agent.env instead`,
      );
    }
  }
}

/** HOSTS="head:vigil-01,gpu-01,agent:gpu-02": entries split on commas; a bare target is an agent. */
export function parseHostsList(raw: string): Host[] {
  const hosts: Host[] = [];
  for (const part of raw.split(/[,\s]+/).filter(Boolean)) {
    const m = /^(head|agent):(.+)$/.exec(part);
    const role = m ? (m[1] as Role) : "agent";
    if (!m && /^[a-z]+:/.test(part) && !part.includes("@")) {
      throw new InventoryError(`HOSTS: '${part}': the role before ':' must be head or agent`);
    }
    hosts.push({ role, target: parseTarget(m ? m[2]! : part, "HOSTS"), settings: {}, origin: "HOSTS" });
  }
  if (hosts.length === 0) throw new InventoryError('HOSTS is empty; e.g. HOSTS="head:vigil-01,gpu-01,gpu-02"');
  return hosts;
}

/**
 * deploy/hosts: one host per line, `ROLE TARGET [KEY=VALUE ...]`; `#` starts a comment. Values may be
 * single- or double-quoted to hold spaces.
 */
export function parseInventory(text: string, name = "deploy/hosts"): Host[] {
  const hosts: Host[] = [];
  text.split("\n").forEach((line, i) => {
    const origin = `${name}:${i + 1}`;
    const words = splitWords(line.replace(/(^|\s)#.*$/, ""), origin);
    if (words.length === 0) return;
    if (words.length < 2) throw new InventoryError(`${origin}: expected ROLE TARGET [KEY=VALUE ...], e.g. "head vigil-01"`);
    const role = parseRole(words[0]!, origin);
    const target = parseTarget(words[1]!, origin);
    const settings: Record<string, string> = {};
    for (const word of words.slice(2)) {
      const eq = word.indexOf("=");
      if (eq <= 0) throw new InventoryError(`${origin}: '${word}' is not KEY=VALUE`);
      settings[word.slice(0, eq)] = word.slice(eq + 1);
    }
    checkSettings(role, settings, origin);
    hosts.push({ role, target, settings, origin });
  });
  if (hosts.length === 0) throw new InventoryError(`${name} lists no hosts; see deploy/hosts.example`);
  return hosts;
}

function splitWords(line: string, origin: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new InventoryError(`${origin}: unbalanced ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Heads first (agents are enrolled and checked through one), each target once, at most one head per run. */
export function ordered(hosts: Host[]): Host[] {
  const seen = new Map<string, Host>();
  for (const h of hosts) {
    const before = seen.get(h.target);
    if (before) throw new InventoryError(`${h.origin}: ${h.target} is listed twice (also at ${before.origin})`);
    seen.set(h.target, h);
  }
  const heads = hosts.filter((h) => h.role === "head");
  if (heads.length > 1) {
    throw new InventoryError(
      `${heads.length} heads (${heads.map((h) => h.target).join(", ")}): one run deploys one head; several heads on one PostgreSQL are deployed one run each`,
    );
  }
  return [...heads, ...hosts.filter((h) => h.role === "agent")];
}
