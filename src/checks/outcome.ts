// What every checker shares: the one way an error becomes a message, the outcomes of the three states, and a deadline bound to the check's timeout and abort.
import { OutboundBlocked, OutboundFailed } from "../net/outbound.ts";
import { byLatency, type CheckContext, type CheckOutcome, type HealthStatus } from "./checker.ts";

/** The check's own deadline passed (ctx.timeoutMs, or a shorter bound a checker chose). */
export class CheckTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "CheckTimeout";
  }
}

/** ctx.signal aborted: the head is stopping, or the service was edited while its check ran. */
export class CheckCancelled extends Error {
  constructor() {
    super("check cancelled");
    this.name = "CheckCancelled";
  }
}

// Codes from node:net, node:fs, node:tls and Bun's fetch, in the words an operator reads in a status line.
const CODE_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "connection reset by peer",
  ConnectionClosed: "connection closed by peer",
  EPIPE: "connection closed by peer",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed for now (EAI_AGAIN)",
  ENOENT: "no such file or directory (ENOENT)",
  EACCES: "permission denied (EACCES)",
  EPERM: "operation not permitted (EPERM)",
  EROFS: "read-only file system (EROFS)",
  ENOSPC: "no space left on device (ENOSPC)",
  EDQUOT: "disk quota exceeded (EDQUOT)",
  ENOTDIR: "not a directory (ENOTDIR)",
  EIO: "I/O error (EIO)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate (set ignoreTlsErrors to accept it)",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in the chain (set ignoreTlsErrors to accept it)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "certificate chain cannot be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "certificate issuer unknown (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)",
  CERT_HAS_EXPIRED: "certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate does not match the host name",
};

/**
 * The one formatter for a check's failure: the cause in an operator's words, without the caller's
 * context (the caller puts "GET http://host/health: " in front).
 */
export function errorText(err: unknown): string {
  if (err instanceof OutboundBlocked) return err.message;
  if (err instanceof OutboundFailed) {
    // outboundFetch prefixes its own "GET origin/…": keep only what happened, the caller names the request.
    const timedOut = /timed out after \d+ ms/.exec(err.message);
    if (timedOut) return timedOut[0];
    if (err.message.endsWith("was aborted")) return "cancelled";
    if (err.cause !== undefined && !err.message.startsWith("cannot resolve")) return errorText(err.cause);
    return err.message.replace(/^[A-Z]+ \S+: (failed: )?/, "");
  }
  if (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; message?: unknown; name?: unknown };
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && CODE_WORDS[code]) return CODE_WORDS[code];
    if (e.name === "TimeoutError") return "timed out";
    if (e.name === "AbortError") return "cancelled";
    const message = typeof e.message === "string" && e.message ? e.message : String(err);
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(err);
}

/** Latency as stored and shown: a tenth of a millisecond is as fine as it means anything. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Milliseconds since `startedAt` (a performance.now() reading): latency uses the monotonic clock, never ctx.now. */
export function since(startedAt: number): number {
  return roundMs(performance.now() - startedAt);
}

export function down(message: string, details: Record<string, unknown> = {}, latencyMs: number | null = null): CheckOutcome {
  return { status: "down", latencyMs, message, details };
}

/** A failure as a down outcome: "<where>: <cause>", the cause also kept in details.error. */
export function failure(where: string, err: unknown, details: Record<string, unknown> = {}): CheckOutcome {
  const cause = errorText(err);
  return down(`${where}: ${cause}`, { ...details, error: cause });
}

/**
 * The thing answered as it should: healthy, or degraded when slower than ctx.degradedLatencyMs
 * (the message says so). `message` is the healthy line, e.g. "HTTP 200 in 35 ms".
 */
export function answered(
  latencyMs: number,
  ctx: Pick<CheckContext, "degradedLatencyMs">,
  message: string,
  details: Record<string, unknown> = {},
): CheckOutcome {
  const status = byLatency(latencyMs, ctx);
  const slow = status === "degraded" ? `, slower than ${ctx.degradedLatencyMs} ms` : "";
  return { status, latencyMs: roundMs(latencyMs), message: `${message}${slow}`, details };
}

const RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, down: 2 };

/** The worse of the statuses (healthy when there are none). */
export function worst(...statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((w, s) => (RANK[s] > RANK[w] ? s : w), "healthy");
}

/**
 * Runs `work` bounded by `ms` (default ctx.timeoutMs) and by ctx.signal. `work` gets a signal that
 * aborts when either ends it, to close its sockets; the promise rejects with CheckTimeout or
 * CheckCancelled at that moment, whether or not `work` noticed.
 */
export function withDeadline<T>(
  ctx: Pick<CheckContext, "timeoutMs" | "signal">,
  work: (signal: AbortSignal) => Promise<T>,
  ms: number = ctx.timeoutMs,
): Promise<T> {
  const inner = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    const end = (reason: Error) => {
      inner.abort(reason);
      reject(reason);
    };
    if (ctx.signal.aborted) return end(new CheckCancelled());
    onAbort = () => end(new CheckCancelled());
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(() => end(new CheckTimeout(ms)), ms);
  });
  const running = inner.signal.aborted ? ended : Promise.resolve().then(() => work(inner.signal));
  return Promise.race([running, ended]).finally(() => {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  });
}

/** A checker's run body: whatever it throws (a bug, a driver surprise) becomes a down outcome naming the check, never an exception. */
export async function neverThrows(what: string, body: () => Promise<CheckOutcome>): Promise<CheckOutcome> {
  try {
    return await body();
  } catch (err) {
    return failure(what, err);
  }
}

/** The check needs the service's worker and the service has none (the form should have refused it). */
export function needsWorkerId(ctx: Pick<CheckContext, "workerId">, label: string): number | CheckOutcome {
  return ctx.workerId ?? down(`${label}: this check needs a worker; choose the worker it runs on`);
}

/** A diagnose body: whatever it throws ends the list with one line saying so, never an exception. */
export async function diagnoseLines(body: (lines: string[]) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  try {
    await body(lines);
  } catch (err) {
    lines.push(`diagnose stopped: ${errorText(err)}`);
  }
  return lines;
}
