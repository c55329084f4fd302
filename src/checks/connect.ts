// Opening a TCP or TLS connection for a check and closing it at once: what tcp, channels and http's certificate look share.
import { lookup } from "node:dns/promises";
import net, { isIP } from "node:net";
import tls from "node:tls";

export interface Connected {
  /** Until the connection (or the TLS handshake) completed. */
  latencyMs: number;
  /** The address actually connected to. */
  remoteAddress: string | null;
}

/** Rejects with the abort reason when `signal` aborts, after running `cleanup`. */
function onAbort(signal: AbortSignal, cleanup: () => void, reject: (err: unknown) => void): () => void {
  const fn = () => {
    cleanup();
    reject(signal.reason);
  };
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

/** Connects to host:port and closes again; rejects with node:net's error (its `code` says why: ECONNREFUSED, ...). */
export function connectTcp(host: string, port: number, signal: AbortSignal): Promise<Connected> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const started = performance.now();
    const socket = net.connect({ host: bare(host), port });
    const detach = onAbort(signal, () => socket.destroy(), reject);
    socket.once("connect", () => {
      const latencyMs = performance.now() - started;
      const remoteAddress = socket.remoteAddress ?? null;
      detach();
      socket.destroy();
      resolve({ latencyMs, remoteAddress });
    });
    socket.once("error", (err) => {
      detach();
      socket.destroy();
      reject(err);
    });
  });
}

/** What a server's certificate says, for the TLS expiry check and diagnose. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** validTo as epoch milliseconds. */
  expiresAt: number;
  /** Whether the chain verified against the system's CAs (and the name matched). */
  authorized: boolean;
  authorizationError: string | null;
  altNames: string | null;
  fingerprint256: string | null;
}

/** "CN=example.com, O=Example" from node's subject object. */
function distinguishedName(name: unknown): string {
  if (!name || typeof name !== "object") return "";
  return Object.entries(name as Record<string, unknown>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
    .join(", ");
}

/**
 * Opens a TLS connection only to read the server's certificate. Bun's fetch does not expose the
 * peer certificate, hence this second connection. Verification is not enforced here (an invalid
 * chain is reported in `authorized`), so an expiring self-signed certificate still has its date read.
 */
export function peerCertificate(host: string, port: number, signal: AbortSignal): Promise<CertificateFacts & Connected> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const started = performance.now();
    const name = bare(host);
    // SNI carries a host name, never an IP literal (node warns and servers ignore it).
    const socket = tls.connect({ host: name, port, servername: isIP(name) ? undefined : name, rejectUnauthorized: false });
    const detach = onAbort(signal, () => socket.destroy(), reject);
    socket.once("secureConnect", () => {
      const latencyMs = performance.now() - started;
      const cert = socket.getPeerCertificate();
      const authError = socket.authorizationError as unknown;
      const facts = {
        latencyMs,
        remoteAddress: socket.remoteAddress ?? null,
        subject: distinguishedName(cert.subject),
        issuer: distinguishedName(cert.issuer),
        validFrom: cert.valid_from,
        validTo: cert.valid_to,
        expiresAt: Date.parse(cert.valid_to),
        authorized: socket.authorized,
        authorizationError: authError ? String((authError as { code?: string }).code ?? authError) : null,
        altNames: cert.subjectaltname ?? null,
        fingerprint256: cert.fingerprint256 ?? null,
      };
      detach();
      socket.destroy();
      if (!cert.valid_to || Number.isNaN(facts.expiresAt)) reject(new Error(`${name}:${port} sent no certificate`));
      else resolve(facts);
    });
    socket.once("error", (err) => {
      detach();
      socket.destroy();
      reject(err);
    });
  });
}

const DAY_MS = 86_400_000;

/** Whole days until `expiresAt` at `now`: 0 on the last day, negative once expired. */
export function daysLeft(expiresAt: number, now: number): number {
  return Math.floor((expiresAt - now) / DAY_MS);
}

/** "[::1]" → "::1": URLs bracket IPv6 literals, sockets want them bare. */
export function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

/** The addresses a name resolves to, for diagnose (an IP resolves to itself). */
export async function resolvedAddresses(host: string): Promise<string[]> {
  const name = bare(host);
  if (isIP(name)) return [name];
  return (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
}
