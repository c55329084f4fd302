// The client's address: the TCP peer, or what X-Forwarded-For says when (and only when) the peer is a trusted proxy.
import { BlockList, isIP } from "node:net";

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** `spec`: comma-separated addresses and CIDR ranges, e.g. "127.0.0.1, 10.0.0.0/8, ::1". */
  constructor(spec: string | readonly string[]) {
    const parts = (typeof spec === "string" ? spec.split(",") : spec).map((s) => s.trim()).filter(Boolean);
    for (const p of parts) {
      const [addr, bits, extra] = p.split("/");
      const family = isIP(addr ?? "");
      if (!family || extra !== undefined) throw new Error(`"${p}" is not an IP address or CIDR range`);
      const type = family === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) this.list.addAddress(addr!, type);
      else {
        const n = Number(bits);
        if (!/^\d+$/.test(bits) || n > (family === 6 ? 128 : 32)) throw new Error(`"${p}" has a bad prefix length`);
        this.list.addSubnet(addr!, n, type);
      }
    }
    this.empty = parts.length === 0;
  }

  trusts(address: string | null | undefined): boolean {
    if (!address || this.empty) return false;
    const a = normalise(address);
    const family = isIP(a);
    if (!family) return false;
    return this.list.check(a, family === 6 ? "ipv6" : "ipv4");
  }
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export function normalise(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

export interface ClientInfo {
  ip: string | null;
  /** Whether the client reached us over TLS (directly, or at a trusted proxy that says so). */
  secure: boolean;
  /** The host the client asked for (trusted proxy's X-Forwarded-Host, else Host). */
  host: string | null;
}

/**
 * Walks X-Forwarded-For from the right, skipping trusted proxies: the first untrusted hop is the
 * client. Headers from an untrusted peer are ignored entirely, so nobody can forge their address.
 */
export function clientInfo(request: Request, peer: string | null, proxies: TrustedProxies): ClientInfo {
  const direct = peer ? normalise(peer) : null;
  const url = new URL(request.url);
  const base: ClientInfo = { ip: direct, secure: url.protocol === "https:", host: request.headers.get("host") };
  if (!proxies.trusts(direct)) return base;
  const hops = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let ip = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i]!);
    if (!isIP(hop)) break; // garbage: stop at the last address we could verify
    ip = hop;
    if (!proxies.trusts(hop)) break;
  }
  // Rightmost: the value the nearest (trusted) proxy added; anything left of it may be the client's.
  const proto = lastItem(request.headers.get("x-forwarded-proto"))?.toLowerCase();
  const fwdHost = lastItem(request.headers.get("x-forwarded-host"));
  return { ip, secure: proto ? proto === "https" : base.secure, host: fwdHost || base.host };
}

function lastItem(header: string | null): string | undefined {
  const v = header?.split(",").at(-1)?.trim();
  return v ? v : undefined;
}
