// What every probe kind is given: the agent's probe settings and how long it may take.

export interface ProbeSettings {
  /** Units whose logs may be read: the agent's restart allow-list (any valid unit's state may be read). */
  logUnits: readonly string[];
  /** Directories whose files probes may read, and where a filesystem write test may write (VIGIL_PROBE_PATHS). */
  paths: readonly string[];
  /** Path of systemctl; "systemctl" is looked up on PATH (as the restart executor does). */
  systemctl?: string;
  /** Path of journalctl; "journalctl" is looked up on PATH. */
  journalctl?: string;
}

export interface ProbeContext {
  settings: ProbeSettings;
  /** How long the probe may take in all, from the head's command. */
  timeoutMs: number;
}

/** "10 s", "1.5 s": durations in messages for people. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** An error as one line, with its code when the message lacks it ("ENOENT: no such file or directory"). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** Network error codes (Node's and Bun's names for them) in words, for the HTTP and TCP probes. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "the connection was reset",
  ConnectionClosed: "the connection was closed before an answer",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "the connection timed out",
  ENOTFOUND: "the host name does not resolve",
  DNSError: "the host name does not resolve",
  FailedToOpenSocket: "could not open a socket",
  CERT_HAS_EXPIRED: "the TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the TLS certificate chain is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the TLS certificate cannot be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "the TLS certificate does not name this host",
};

/** A connection failure in words ("connection refused"), or the error's own text for anything else. */
export function networkErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return (code && NETWORK_ERRORS[code]) || errorText(err);
}
