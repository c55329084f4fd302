// Structured logging: one JSON object per line on stderr (time, level, msg, context).

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: LogLevel = "info";
let sink: (line: string) => void = (line) => process.stderr.write(line + "\n");

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** Tests capture log lines instead of letting them reach stderr. */
export function setLogSink(fn: (line: string) => void): () => void {
  const previous = sink;
  sink = fn;
  return () => {
    sink = previous;
  };
}

export type LogContext = Record<string, unknown>;

function errorToJson(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (threshold === "debug" && value.stack) out.stack = value.stack;
    return out;
  }
  return value;
}

function write(level: LogLevel, msg: string, context: LogContext | undefined): void {
  if (rank[level] < rank[threshold]) return;
  const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
  if (context && Object.keys(context).length > 0) {
    const ctx: LogContext = {};
    for (const [k, v] of Object.entries(context)) ctx[k] = errorToJson(v);
    entry.context = ctx;
  }
  let line: string;
  try {
    line = JSON.stringify(entry, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    line = JSON.stringify({ time: entry.time, level, msg, context: "[unserialisable]" });
  }
  sink(line);
}

export interface Logger {
  debug(msg: string, context?: LogContext): void;
  info(msg: string, context?: LogContext): void;
  warn(msg: string, context?: LogContext): void;
  error(msg: string, context?: LogContext): void;
  /** A logger whose lines all carry `base` in their context (e.g. the component name). */
  child(base: LogContext): Logger;
}

function makeLogger(base: LogContext): Logger {
  const merge = (c?: LogContext) => (c ? { ...base, ...c } : base);
  return {
    debug: (m, c) => write("debug", m, merge(c)),
    info: (m, c) => write("info", m, merge(c)),
    warn: (m, c) => write("warn", m, merge(c)),
    error: (m, c) => write("error", m, merge(c)),
    child: (more) => makeLogger({ ...base, ...more }),
  };
}

export const log: Logger = makeLogger({});
