// Flags and VIGIL_* environment variables, validated once into a frozen config; a bad value is a one-line ConfigError.
import { parseArgs } from "node:util";
import { accessSync, constants, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { isAbsolute, join, resolve } from "node:path";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { WORKER_NAME, WORKER_NAME_RULE } from "./fleet/names.ts";
import { parseHeat, type HeatSpec } from "./sim/heat.ts";

/** A setting that cannot be used. main.ts prints `message` on one line and exits with code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface Listen {
  host: string;
  port: number;
}

/** Every setting any command knows. Commands pick the ones they accept (see `COMMAND_SETTINGS`). */
export interface Config {
  listen: Listen;
  dataDir: string;
  databaseUrl: string | undefined;
  localAgent: boolean;
  interval: number; // seconds between samples
  logLevel: LogLevel;
  procRoot: string;
  sysRoot: string;
  nvmlLib: string | undefined;
  nvidiaSmi: string | undefined;
  agentDir: string;
  simWorkers: number;
  simGpus: number;
  simBatch: number;
  duration: number | undefined; // seconds
  simDemo: boolean;
  simHeat: HeatSpec | undefined;
  restartAllow: string | undefined;
  restartAllowFile: string | undefined;
  restartVia: "direct" | "polkit" | "sudo";
  spoolMax: number; // bytes
  spoolMaxAge: number; // seconds
  netInclude: readonly string[] | undefined;
  netExclude: readonly string[] | undefined;
  dockerDir: string | undefined;
  pgliteSharedBuffers: string;
  workerName: string;
  head: string | undefined;
  token: string | undefined;
  once: boolean;
  json: boolean;
  publicUrl: string | undefined;
  trustedProxies: readonly string[];
  adminPassword: string | undefined;
  sessionIdle: number; // seconds
  sessionMax: number; // seconds
  role: "admin" | "viewer" | undefined;
  passwordStdin: boolean;
  tokenName: string | undefined;
  expires: number | undefined; // seconds
  retentionRaw: number; // seconds
  retention1m: number; // seconds
  retention1h: number; // seconds
  retentionProcesses: number; // seconds
  processInterval: number; // seconds
  metricsPublic: boolean;
  outboundAllow: readonly string[];
  outboundAllowPrivate: boolean;
  uptimeDegradedWeight: number;
  simHeads: readonly string[] | undefined;
  dbPoolSize: number;
  dbStatementTimeout: number; // seconds, 0: none
  ingestQueueMax: number; // samples
  leaderRetry: number; // seconds
  statusPublic: boolean;
  probePaths: readonly string[];
  servicesFile: string | undefined;
}

type Key = keyof Config;

interface SettingSpec<K extends Key> {
  key: K;
  /** Long flag without the dashes; for booleans that default to true this is the `no-` form. */
  flag?: string;
  env?: string;
  boolean?: boolean;
  /** The value when neither flag nor env is given, as a user would type it (shown in --help). */
  default?: string;
  help: string;
  /** Turns the raw text into the value; throws ConfigError(reason) where `label` names the source. */
  parse: (raw: string, label: string) => Config[K];
}

const str = (raw: string) => raw;

function parseListen(raw: string, label: string): Listen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,6})$/.exec(raw.trim()) ?? /^()()(\d{1,6})$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected HOST:PORT or PORT, e.g. 0.0.0.0:8480`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${label}="${raw}": port ${m[3]} is out of range (1-65535)`);
  }
  const host = m[1] || m[2] || "0.0.0.0";
  return { host, port };
}

function parseInterval(raw: string, label: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected seconds, e.g. 1, 2.5, 500ms`);
  const seconds = m[2] === "ms" ? Number(m[1]) / 1000 : Number(m[1]);
  if (seconds < 0.1 || seconds > 3600) {
    throw new ConfigError(`${label}="${raw}": must be between 100ms and 3600s`);
  }
  return seconds;
}

function parseBool(raw: string, label: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${label}="${raw}": expected true or false`);
}

/** Hides the password of a connection string before it reaches a message or a log line. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return raw.replace(/:\/\/([^:/@]*):[^@]*@/, "://$1:***@");
  }
}

const SOCKET_STAND_IN = "unix-socket.invalid";

function parseDatabaseUrl(raw: string, label: string): string | undefined {
  if (raw.trim() === "") return undefined;
  let u: URL;
  // postgres://USER@/DBNAME?host=/run/postgresql names a socket directory and no host, which libpq and
  // pg accept but the URL standard does not: check it with a stand-in host (the value stays as given).
  const socketForm = /^[a-z]+:\/\/[^/?#]*@\//i.test(raw);
  try {
    u = new URL(socketForm ? raw.replace("@/", `@${SOCKET_STAND_IN}/`) : raw);
  } catch {
    const port = /^[a-z]+:\/\/[^/]*:(\d+)(?:\/|$)/i.exec(raw)?.[1];
    if (port && Number(port) > 65535) throw new ConfigError(`${label}="${redactUrl(raw)}": port ${port} is out of range (1-65535)`);
    throw new ConfigError(`${label}="${redactUrl(raw)}": not a URL; expected postgres://USER:PASSWORD@HOST:5432/DBNAME`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new ConfigError(`${label}="${redactUrl(raw)}": scheme must be postgres:// or postgresql://, not ${u.protocol}//`);
  }
  // A socket directory may be given as ?host=/run/postgresql instead of a host name.
  const hostname = u.hostname === SOCKET_STAND_IN ? "" : u.hostname;
  if (!hostname && !u.searchParams.get("host")) {
    throw new ConfigError(
      `${label}="${redactUrl(raw)}": no host; expected postgres://USER:PASSWORD@HOST:5432/DBNAME, or postgres://USER@/DBNAME?host=/run/postgresql for a Unix socket`,
    );
  }
  if (u.port && (Number(u.port) < 1 || Number(u.port) > 65535)) {
    throw new ConfigError(`${label}="${redactUrl(raw)}": port ${u.port} is out of range (1-65535)`);
  }
  return raw;
}

function parseLogLevel(raw: string, label: string): LogLevel {
  const v = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new ConfigError(`${label}="${raw}": expected one of ${LOG_LEVELS.join(", ")}`);
}

function parseHeadUrl(raw: string, label: string): string | undefined {
  if (raw.trim() === "") return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return u.toString().replace(/\/$/, "");
  } catch {
    throw new ConfigError(`${label}="${raw}": expected the head's URL, e.g. http://head:8480`);
  }
}

function wholeNumber(raw: string, label: string, min: number, max: number): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new ConfigError(`${label}="${raw}": expected a whole number from ${min} to ${max}`);
  return n;
}

/** "500ms", "2s", "5m", "1h" (or plain seconds) to seconds, from 0.1 s to a day. */
function parseSeconds(raw: string, label: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected a duration such as 500ms, 2s or 5m`);
  const seconds = Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  if (seconds < 0.1 || seconds > 86_400) throw new ConfigError(`${label}="${raw}": must be between 100ms and 24h`);
  return seconds;
}

/** "90s", "30m", "12h", "7d" (or plain seconds) to seconds. */
export function parseDuration(raw: string, label: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected a duration such as 30m, 12h or 7d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"];
  const seconds = Number(m[1]) * unit;
  if (seconds < 60) throw new ConfigError(`${label}="${raw}": must be at least one minute`);
  return seconds;
}

function parsePublicUrl(raw: string, label: string): string | undefined {
  if (raw.trim() === "") return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return u.origin;
  } catch {
    throw new ConfigError(`${label}="${raw}": expected the URL people open, e.g. https://vigil.example.org`);
  }
}

function parseProxies(raw: string, label: string): readonly string[] {
  const parts = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of parts) {
    const [addr, bits, extra] = p.split("/");
    const family = isIP(addr ?? "");
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > max))) {
      throw new ConfigError(`${label}: "${p}" is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`);
    }
  }
  return Object.freeze(parts);
}

function parsePatterns(raw: string, label: string): readonly string[] | undefined {
  const parts = raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of parts)
    if (!/^[A-Za-z0-9_.:@*?-]+$/.test(p))
      throw new ConfigError(`${label}: "${p}" is not an interface name or pattern (letters, digits, - _ . : @ and * ?)`);
  return parts.length ? Object.freeze(parts) : undefined;
}

function intIn(raw: string, label: string, min: number, max: number): number {
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${label}="${raw}": expected a whole number from ${min} to ${max}`);
  return n;
}

/** "256MB", "64KB", "1GB" (powers of 1024) or plain bytes. */
function parseBytes(raw: string, label: string): number {
  const m = /^(\d+)\s*(B|KB|MB|GB)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${label}="${raw}": expected a size such as 256MB`);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? "B").toUpperCase() as "B"];
  const bytes = Number(m[1]) * unit;
  if (bytes < 16 * 1024) throw new ConfigError(`${label}="${raw}": at least 16KB`);
  return bytes;
}

function parseSize(raw: string, label: string): string {
  if (!/^\d+(kB|MB|GB)$/.test(raw.trim())) throw new ConfigError(`${label}="${raw}": expected a size such as 16MB`);
  return raw.trim();
}

export const SETTINGS: { [K in Key]: SettingSpec<K> } = {
  listen: {
    key: "listen",
    flag: "listen",
    env: "VIGIL_LISTEN",
    default: "0.0.0.0:8480",
    help: "address and port the head serves HTTP on",
    parse: parseListen,
  },
  dataDir: {
    key: "dataDir",
    flag: "data-dir",
    env: "VIGIL_DATA_DIR",
    default: "./vigil-data",
    help: "directory of the embedded database and the head's lock file",
    parse: (raw) => resolve(raw),
  },
  databaseUrl: {
    key: "databaseUrl",
    flag: "database-url",
    env: "DATABASE_URL",
    help: "use this external PostgreSQL (15 or newer) instead of the embedded one",
    parse: parseDatabaseUrl,
  },
  localAgent: {
    key: "localAgent",
    flag: "no-local-agent",
    env: "VIGIL_LOCAL_AGENT",
    boolean: true,
    default: "true",
    help: "do not run the in-process agent that watches this machine (env: false)",
    parse: parseBool,
  },
  interval: {
    key: "interval",
    flag: "interval",
    env: "VIGIL_INTERVAL",
    default: "1",
    help: "seconds between samples (100ms to 3600s)",
    parse: parseInterval,
  },
  logLevel: {
    key: "logLevel",
    flag: "log-level",
    env: "VIGIL_LOG_LEVEL",
    default: "info",
    help: "debug, info, warn or error (JSON lines on stderr)",
    parse: parseLogLevel,
  },
  procRoot: {
    key: "procRoot",
    env: "VIGIL_PROC_ROOT",
    default: "/proc",
    help: "where the host collectors read /proc (tests point it at fixtures)",
    parse: (raw) => resolve(raw),
  },
  sysRoot: {
    key: "sysRoot",
    env: "VIGIL_SYS_ROOT",
    default: "/sys",
    help: "where the host collectors read /sys",
    parse: (raw) => resolve(raw),
  },
  nvmlLib: {
    key: "nvmlLib",
    env: "VIGIL_NVML_LIB",
    help: "path of libnvidia-ml (default: the system's libnvidia-ml.so.1)",
    parse: (raw) => (raw === "" ? undefined : resolve(raw)),
  },
  nvidiaSmi: {
    key: "nvidiaSmi",
    env: "VIGIL_NVIDIA_SMI",
    help: "path of nvidia-smi, the fallback when NVML cannot load (default: found on PATH)",
    parse: (raw) => (raw === "" ? undefined : raw),
  },
  simWorkers: {
    key: "simWorkers",
    flag: "workers",
    default: "10",
    help: "synthetic workers to run",
    parse: (raw, label) => intIn(raw, label, 1, 10_000),
  },
  simGpus: {
    key: "simGpus",
    flag: "gpus",
    default: "8",
    help: "GPUs per synthetic worker",
    parse: (raw, label) => intIn(raw, label, 0, 64),
  },
  simBatch: {
    key: "simBatch",
    flag: "batch",
    default: "1",
    help: "samples per message (more than 1 replays a backlog, for load tests)",
    parse: (raw, label) => intIn(raw, label, 1, 500),
  },
  duration: {
    key: "duration",
    flag: "duration",
    help: "stop after this many seconds (default: until interrupted)",
    parse: (raw, label) => intIn(raw, label, 1, 86_400),
  },
  simDemo: {
    key: "simDemo",
    flag: "demo",
    boolean: true,
    default: "false",
    help: "a lifelike fleet for demos: varied load, one hot GPU, one worker going offline, processes, 2 h of history",
    parse: parseBool,
  },
  simHeat: {
    key: "simHeat",
    flag: "heat",
    help: "hold one GPU hot for a while: WORKER:GPU@START+DURATION[=CELSIUS], e.g. 1:0@5+20=90 (sim-0001's GPU 0 at 90 C from 5 s to 25 s)",
    parse: parseHeat,
  },
  agentDir: {
    key: "agentDir",
    env: "VIGIL_AGENT_DIR",
    default: process.getuid?.() === 0 ? "/var/lib/vigil-agent" : "./vigil-agent",
    help: "the agent's credential and sample spool",
    parse: (raw) => resolve(raw),
  },
  restartAllow: {
    key: "restartAllow",
    env: "VIGIL_RESTART_ALLOW",
    help: "units this agent may restart when the head asks, comma-separated (exact names, e.g. comfyui.service)",
    parse: (raw) => (raw === "" ? undefined : raw),
  },
  spoolMax: {
    key: "spoolMax",
    env: "VIGIL_SPOOL_MAX",
    default: "256MB",
    help: "most disk the agent's spool may use while the head is away; oldest samples dropped first",
    parse: parseBytes,
  },
  spoolMaxAge: {
    key: "spoolMaxAge",
    env: "VIGIL_SPOOL_MAX_AGE",
    default: "72h",
    help: "samples older than this are dropped from the spool",
    parse: parseDuration,
  },
  restartVia: {
    key: "restartVia",
    env: "VIGIL_RESTART_VIA",
    default: "direct",
    help: "how restarts get their right: direct or polkit (systemctl as is) or sudo (sudo -n systemctl); the installer sets it",
    parse: (raw, label) => {
      const v = raw.trim();
      if (v === "direct" || v === "polkit" || v === "sudo") return v;
      if (v === "none") return "direct";
      throw new ConfigError(`${label}="${raw}": expected direct, polkit or sudo`);
    },
  },
  restartAllowFile: {
    key: "restartAllowFile",
    env: "VIGIL_RESTART_ALLOW_FILE",
    help: "a file listing more restartable units, one per line",
    parse: (raw) => (raw === "" ? undefined : resolve(raw)),
  },
  netInclude: {
    key: "netInclude",
    env: "VIGIL_NET_INCLUDE",
    help: "network interfaces to count, comma-separated patterns like eth*,ib* (default: physical NICs)",
    parse: parsePatterns,
  },
  netExclude: {
    key: "netExclude",
    env: "VIGIL_NET_EXCLUDE",
    help: "network interfaces never to count, comma-separated patterns",
    parse: parsePatterns,
  },
  dockerDir: {
    key: "dockerDir",
    env: "VIGIL_DOCKER_DIR",
    help: "Docker data directory to size every 5 minutes (default: data-root of /etc/docker/daemon.json, else /var/lib/docker)",
    parse: (raw) => (raw === "" ? undefined : resolve(raw)),
  },
  pgliteSharedBuffers: {
    key: "pgliteSharedBuffers",
    env: "VIGIL_PGLITE_SHARED_BUFFERS",
    default: "16MB",
    help: "shared_buffers of the embedded database; it decides most of its memory",
    parse: parseSize,
  },
  workerName: {
    key: "workerName",
    flag: "name",
    env: "VIGIL_WORKER_NAME",
    help: "serve: the name the head's own machine shows as (default: its host name); agent: the head names a worker at 'vigil worker add NAME', and a different --name is only warned about",
    parse: (raw, label) => {
      const v = raw.trim();
      if (!WORKER_NAME.test(v)) throw new ConfigError(`${label}="${raw}": ${WORKER_NAME_RULE}`);
      return v;
    },
  },
  head: { key: "head", flag: "head", env: "VIGIL_HEAD", help: "URL of the head to push samples to", parse: parseHeadUrl },
  token: {
    key: "token",
    flag: "token",
    env: "VIGIL_TOKEN",
    help: "the agent's enrollment token or credential",
    parse: (raw) => (raw === "" ? undefined : raw),
  },
  once: { key: "once", flag: "once", boolean: true, default: "false", help: "collect one sample and exit", parse: parseBool },
  publicUrl: {
    key: "publicUrl",
    flag: "public-url",
    env: "VIGIL_PUBLIC_URL",
    help: "the URL people open (behind a proxy: its https:// address); forms from other origins are refused",
    parse: parsePublicUrl,
  },
  trustedProxies: {
    key: "trustedProxies",
    env: "VIGIL_TRUSTED_PROXIES",
    default: "",
    help: "addresses or CIDRs of reverse proxies whose X-Forwarded-* headers count",
    parse: parseProxies,
  },
  adminPassword: {
    key: "adminPassword",
    env: "VIGIL_ADMIN_PASSWORD",
    help: "password of the admin created on first start (default: random, printed once)",
    parse: (raw) => (raw === "" ? undefined : raw),
  },
  sessionIdle: {
    key: "sessionIdle",
    env: "VIGIL_SESSION_IDLE",
    default: "12h",
    help: "a browser session unused this long ends",
    parse: parseDuration,
  },
  retentionRaw: {
    key: "retentionRaw",
    env: "VIGIL_RETENTION_RAW",
    default: "24h",
    help: "raw samples (one per interval) are kept this long",
    parse: parseDuration,
  },
  retention1m: {
    key: "retention1m",
    env: "VIGIL_RETENTION_1M",
    default: "30d",
    help: "1-minute rollups (min / avg / max) are kept this long",
    parse: parseDuration,
  },
  retention1h: {
    key: "retention1h",
    env: "VIGIL_RETENTION_1H",
    default: "365d",
    help: "1-hour rollups (min / avg / max) are kept this long",
    parse: parseDuration,
  },
  retentionProcesses: {
    key: "retentionProcesses",
    env: "VIGIL_RETENTION_PROCESSES",
    default: "7d",
    help: "per-process GPU memory records are kept this long",
    parse: parseDuration,
  },
  processInterval: {
    key: "processInterval",
    env: "VIGIL_PROCESS_INTERVAL",
    default: "10s",
    help: "per-process GPU memory is stored at most this often per GPU",
    parse: parseInterval,
  },
  outboundAllow: {
    key: "outboundAllow",
    env: "VIGIL_OUTBOUND_ALLOW",
    default: "",
    help: "private addresses or CIDRs that webhooks and HTTP checks may reach (link-local and cloud metadata stay refused)",
    parse: parseProxies,
  },
  outboundAllowPrivate: {
    key: "outboundAllowPrivate",
    env: "VIGIL_OUTBOUND_ALLOW_PRIVATE",
    default: "false",
    help: "let webhooks and HTTP checks reach any private address (10/8, 192.168/16, 127/8, ...)",
    parse: parseBool,
  },
  simHeads: {
    key: "simHeads",
    flag: "spread-to",
    help: "more heads on the same database to spread the simulated workers over, round robin with --head (comma-separated URLs)",
    parse: (raw, label) =>
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((u) => {
          const url = parseHeadUrl(u, label);
          if (!url) throw new ConfigError(`${label}="${raw}": expected head URLs, e.g. http://head-b:8480,http://head-c:8480`);
          return url;
        }),
  },
  dbPoolSize: {
    key: "dbPoolSize",
    env: "VIGIL_DB_POOL_SIZE",
    default: "10",
    help: "PostgreSQL connections each head pools (it opens two more: loop locks and LISTEN); max_connections needs (this + 2) x heads",
    parse: (raw, label) => wholeNumber(raw, label, 1, 1000),
  },
  dbStatementTimeout: {
    key: "dbStatementTimeout",
    env: "VIGIL_DB_STATEMENT_TIMEOUT",
    default: "5m",
    help: "PostgreSQL cancels a statement of the head's that runs longer (0: never), so one stuck query cannot hold a connection",
    parse: (raw, label) => (raw.trim() === "0" ? 0 : parseSeconds(raw, label)),
  },
  ingestQueueMax: {
    key: "ingestQueueMax",
    env: "VIGIL_INGEST_QUEUE_MAX",
    default: "20000",
    help: "samples waiting for the database beyond which agents are told 'busy' (HTTP 429) and keep theirs spooled",
    parse: (raw, label) => wholeNumber(raw, label, 100, 10_000_000),
  },
  leaderRetry: {
    key: "leaderRetry",
    env: "VIGIL_LEADER_RETRY",
    default: "1s",
    help: "how often a head not leading a loop (alerts, deliveries, retention, health) tries to take it: the longest a loop waits after its head dies",
    parse: (raw, label) => parseSeconds(raw, label),
  },
  uptimeDegradedWeight: {
    key: "uptimeDegradedWeight",
    env: "VIGIL_UPTIME_DEGRADED_WEIGHT",
    default: "0.5",
    help: "how much degraded time counts as up in uptime percentages, from 0 (down) to 1 (up)",
    parse: (raw, label) => {
      const n = Number(raw.trim());
      if (raw.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
        throw new ConfigError(`${label}="${raw}": expected a number from 0 to 1, e.g. 0.5`);
      return n;
    },
  },
  probePaths: {
    key: "probePaths",
    flag: "probe-paths",
    env: "VIGIL_PROBE_PATHS",
    default: "",
    help: "directories (absolute, comma-separated) under which the head's health checks may read files and logs on this machine",
    parse: (raw, label) => {
      const dirs = raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const d of dirs) if (!isAbsolute(d)) throw new ConfigError(`${label}: "${d}" is not an absolute directory`);
      return Object.freeze([...new Set(dirs)]);
    },
  },
  servicesFile: {
    key: "servicesFile",
    env: "VIGIL_SERVICES_FILE",
    help: 'a JSON file of services to check ({"services": [...]}, the fields of POST /api/v1/services), applied at every start',
    parse: (raw) => (raw === "" ? undefined : resolve(raw)),
  },
  statusPublic: {
    key: "statusPublic",
    env: "VIGIL_STATUS_PUBLIC",
    default: "false",
    help: "serve a public status page at /status (no login; service names and states only)",
    parse: parseBool,
  },
  metricsPublic: {
    key: "metricsPublic",
    env: "VIGIL_METRICS_PUBLIC",
    default: "false",
    help: "serve the Prometheus /metrics without a token (for a scraper on a trusted network)",
    parse: parseBool,
  },
  sessionMax: {
    key: "sessionMax",
    env: "VIGIL_SESSION_MAX",
    default: "7d",
    help: "a browser session ends this long after login",
    parse: parseDuration,
  },
  role: {
    key: "role",
    flag: "role",
    help: "admin or viewer",
    parse: (raw, label) => {
      if (raw !== "admin" && raw !== "viewer") throw new ConfigError(`${label}="${raw}": expected admin or viewer`);
      return raw;
    },
  },
  passwordStdin: {
    key: "passwordStdin",
    flag: "password-stdin",
    boolean: true,
    default: "false",
    help: "read the password from standard input instead of generating one",
    parse: parseBool,
  },
  tokenName: { key: "tokenName", flag: "name", help: "what the token is for (shown in lists and the audit log)", parse: (raw) => raw },
  expires: { key: "expires", flag: "expires", help: "lifetime, e.g. 30d or 12h (default: never expires)", parse: parseDuration },
  // One flag shared by several commands: the help says what each prints, since it differs.
  json: {
    key: "json",
    flag: "json",
    boolean: true,
    default: "false",
    help: "print JSON on stdout instead of text (agent: each sample as wire JSON; worker, user, token: the list; doctor: the report)",
    parse: parseBool,
  },
};

export interface ParsedCommand<K extends Key = Key> {
  /** Only the settings the command asked for: using another is a compile error, not an undefined. */
  config: Readonly<Pick<Config, K>>;
  positionals: string[];
  help: boolean;
}

/** Verifies the data directory exists (creating it) and is readable and writable, with a probe file. */
export function checkDataDir(dir: string, label = "VIGIL_DATA_DIR"): void {
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw new ConfigError(`${label}=${dir}: exists but is not a directory`);
    if (!st) mkdirSync(dir, { recursive: true, mode: 0o700 });
    readdirSync(dir);
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "ok");
    rmSync(probe);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`${label}=${dir}: not a usable data directory (${e.code ?? e.message}); choose a directory this user can write`);
  }
}

/**
 * Reads `keys` for one command: flag, else environment, else default. Unknown flags and bad values
 * throw ConfigError. The result is frozen: nothing changes configuration after start-up.
 */
export function parseCommandConfig<K extends Key>(
  command: string,
  keys: readonly K[],
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): ParsedCommand<K> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const key of keys as readonly Key[]) {
    const s = SETTINGS[key];
    if (s.flag) options[s.flag] = { type: s.boolean ? "boolean" : "string" };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/, "");
    throw new ConfigError(`${command}: ${msg}; see 'vigil ${command} --help'`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const out: Partial<Record<Key, unknown>> = {};
  for (const key of keys as readonly Key[]) {
    const s = SETTINGS[key] as SettingSpec<Key>;
    const flagValue = s.flag ? values[s.flag] : undefined;
    if (flagValue !== undefined) {
      if (typeof flagValue === "boolean") {
        // `--no-x` flags switch a default-true setting off.
        out[key] = s.flag!.startsWith("no-") ? !flagValue : flagValue;
      } else {
        out[key] = s.parse(flagValue, `--${s.flag}`);
      }
      continue;
    }
    const envValue = s.env ? env[s.env] : undefined;
    if (envValue !== undefined && envValue !== "") {
      out[key] = s.parse(envValue, s.env!);
      continue;
    }
    out[key] = s.default !== undefined ? s.parse(s.default, `default ${s.flag ?? s.env}`) : undefined;
  }
  if ((keys as readonly Key[]).includes("workerName") && out.workerName === undefined) out.workerName = sanitizeHostname(hostname());
  return { config: Object.freeze(out) as Readonly<Pick<Config, K>>, positionals: parsed.positionals, help: values.help === true };
}

function sanitizeHostname(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63);
  return clean === "" ? "localhost" : clean;
}

/** The options section of a command's --help, generated from the same table that parses them. */
export function formatOptions(keys: readonly Key[]): string {
  const rows: [string, string][] = [];
  for (const key of keys) {
    const s = SETTINGS[key] as SettingSpec<Key>;
    const metavar =
      key === "databaseUrl" || key === "head"
        ? "URL"
        : key === "listen"
          ? "HOST:PORT"
          : key === "dataDir"
            ? "DIR"
            : key === "interval"
              ? "SECONDS"
              : "VALUE";
    const left = s.flag ? `--${s.flag}${s.boolean ? "" : ` ${metavar}`}` : `${s.env}=${metavar}`;
    const extras: string[] = [];
    if (s.env && s.flag) extras.push(`env ${s.env}`);
    if (s.default !== undefined && !s.boolean) extras.push(`default ${s.default}`);
    rows.push([left, `${s.help}${extras.length ? ` [${extras.join(", ")}]` : ""}`]);
  }
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join("\n");
}
