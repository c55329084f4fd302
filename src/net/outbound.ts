// The outbound URL guard: every request the head makes to an operator-supplied address (webhooks, HTTP checks) goes through here.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Which addresses the head may connect to. Public addresses are always allowed; private ones only
 * when `allowPrivate` is set or an `allow` CIDR covers them; the always-refused ranges never.
 */
export interface OutboundPolicy {
  allowPrivate: boolean;
  /** CIDRs allowed even though private, e.g. "127.0.0.0/8" (from VIGIL_OUTBOUND_ALLOW). */
  allow: readonly string[];
}

/** Public addresses only: the default, so a webhook URL typed into the UI cannot probe the head's own network. */
export const STRICT_POLICY: OutboundPolicy = Object.freeze({ allowPrivate: false, allow: Object.freeze([]) as readonly string[] });

/** Why a URL was refused, for the caller that wants more than the message. */
export type RefusalReason = "invalid-url" | "scheme" | "always-refused" | "private";

/** The policy refused this URL or address. Not worth retrying: the same URL will be refused again. */
export class OutboundBlocked extends Error {
  constructor(
    message: string,
    readonly reason: RefusalReason,
    /** The refused address (IP), when the refusal is about one. */
    readonly address?: string,
    /** The range it fell in, e.g. "127.0.0.0/8". */
    readonly range?: string,
  ) {
    super(message);
    this.name = "OutboundBlocked";
  }
}

/** The request could not be made or finished (DNS, connect, timeout, redirect loop). `retryable` says whether trying later may help. */
export class OutboundFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "OutboundFailed";
  }
}

interface Range {
  cidr: string;
  /** The range in the operator's words, for the error message. */
  what: string;
  list: BlockList;
}

function range(cidr: string, what: string): Range {
  return { cidr, what, list: blockListOf([cidr]) };
}

// Checked first: a listed `allow` CIDR or allowPrivate never opens these. Link-local and the cloud
// metadata addresses hand out instance credentials to whoever asks from the machine itself.
const ALWAYS_REFUSED: readonly Range[] = [
  range("0.0.0.0/8", "'this network' (unspecified)"),
  range("169.254.0.0/16", "link-local (cloud metadata)"),
  range("100.100.100.200/32", "Alibaba Cloud metadata"),
  range("192.0.0.192/32", "Oracle Cloud metadata"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved or broadcast"), // includes 255.255.255.255
  range("::/128", "unspecified"),
  range("fe80::/10", "link-local"),
  range("fd00:ec2::254/128", "AWS metadata (IPv6)"),
  range("ff00::/8", "multicast"),
];

const PRIVATE: readonly Range[] = [
  range("127.0.0.0/8", "loopback"),
  range("10.0.0.0/8", "private"),
  range("172.16.0.0/12", "private"),
  range("192.168.0.0/16", "private"),
  range("100.64.0.0/10", "carrier-grade NAT"),
  range("198.18.0.0/15", "benchmarking"),
  range("::1/128", "loopback"),
  range("fc00::/7", "unique local"),
];

/** A BlockList of addresses and CIDRs; throws a readable error on a bad entry (the message names it). */
export function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of cidrs) {
    const entry = raw.trim();
    const [addr = "", bits, extra] = entry.split("/");
    const family = isIP(addr);
    if (!family || extra !== undefined) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    const type = family === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const n = Number(bits);
      if (!/^\d+$/.test(bits) || n > (family === 6 ? 128 : 32))
        throw new Error(`"${entry}" has a bad prefix length (want 0-${family === 6 ? 128 : 32})`);
      list.addSubnet(addr, n, type);
    }
  }
  return list;
}

/**
 * A policy from the two settings (VIGIL_OUTBOUND_ALLOW_PRIVATE, VIGIL_OUTBOUND_ALLOW). `allow` is a
 * comma-separated list or an array; a bad entry throws an error naming it.
 */
export function outboundPolicy(allowPrivate: boolean, allow: string | readonly string[] = []): OutboundPolicy {
  const entries = (typeof allow === "string" ? allow.split(",") : allow).map((s) => s.trim()).filter(Boolean);
  blockListOf(entries); // validate now, not on the first alert
  return Object.freeze({ allowPrivate, allow: Object.freeze(entries) });
}

// Built once per policy object rather than per request.
const allowLists = new WeakMap<OutboundPolicy, BlockList>();

function allowListOf(policy: OutboundPolicy): BlockList {
  let list = allowLists.get(policy);
  if (!list) {
    list = blockListOf(policy.allow);
    allowLists.set(policy, list);
  }
  return list;
}

/** The 16 bytes of an IPv6 address (already known valid by isIP), or null. */
function ipv6Bytes(address: string): Uint8Array | null {
  let text = address.replace(/%.*$/, ""); // a zone id ("fe80::1%eth0") says nothing about the address
  const bytes = new Uint8Array(16);
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const v4 = dotted.slice(1).map(Number);
    text = text.slice(0, dotted.index) + ((v4[0]! << 8) | v4[1]!).toString(16) + ":" + ((v4[2]! << 8) | v4[3]!).toString(16);
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailGroups];
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

/**
 * The IPv4 address an IPv6 address stands for, if any: IPv4-mapped (::ffff:a.b.c.d, how dual-stack
 * sockets and URLs spell IPv4), IPv4-compatible (::a.b.c.d, deprecated but still routed by some
 * stacks) and NAT64 (64:ff9b::a.b.c.d, which a NAT64 gateway forwards to that IPv4 address).
 */
export function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4;
  // ::a.b.c.d, but not :: and ::1 themselves (unspecified and loopback are their own ranges).
  if (zeros(0, 12) && !zeros(12, 15)) return v4;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4;
  return null;
}

function matching(ranges: readonly Range[], address: string, type: "ipv4" | "ipv6"): Range | undefined {
  return ranges.find((r) => r.list.check(address, type));
}

/**
 * Throws OutboundBlocked if the policy refuses `address` (an IP). `host` is what the operator wrote,
 * for the message when it differs from the address.
 */
export function checkAddress(address: string, policy: OutboundPolicy, host: string = address): void {
  const bare = address.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(bare.replace(/%.*$/, ""));
  if (!family) throw new OutboundBlocked(`"${address}" is not an IP address`, "invalid-url", address);
  // Check the IPv4 address an IPv6 form stands for, so [::ffff:169.254.169.254] is the metadata address it is.
  const v4 = family === 6 ? embeddedIpv4(bare) : bare;
  const ip = v4 ?? bare.replace(/%.*$/, "");
  const type = v4 ? "ipv4" : "ipv6";
  const subject = host === address || host === bare ? ip : `${host} resolves to ${ip}, which`;
  const always = matching(ALWAYS_REFUSED, ip, type);
  if (always) {
    throw new OutboundBlocked(
      `${subject} is a ${always.what} address (${always.cidr}); Vigil never connects there, whatever VIGIL_OUTBOUND_ALLOW says`,
      "always-refused",
      ip,
      always.cidr,
    );
  }
  const priv = matching(PRIVATE, ip, type);
  if (!priv || policy.allowPrivate) return;
  const allow = allowListOf(policy);
  // An allow list entry may be written in either family; a mapped address matches an IPv4 entry too.
  if (allow.check(ip, type) || (v4 !== null && allow.check(bare, "ipv6"))) return;
  throw new OutboundBlocked(
    `${subject} is a ${priv.what === "private" ? "private" : `private (${priv.what})`} address; ` +
      `set VIGIL_OUTBOUND_ALLOW=${priv.cidr} (or VIGIL_OUTBOUND_ALLOW_PRIVATE=true) to allow it`,
    "private",
    ip,
    priv.cidr,
  );
}

/**
 * Resolves `host` (a name, an IP, or a bracketed IPv6 literal) and checks every address it has: a
 * name with one public and one private address is refused, because the connection may use either.
 * Returns the addresses checked. Used directly by channels that connect without fetch (SMTP).
 */
export async function checkHost(host: string, policy: OutboundPolicy): Promise<string[]> {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare)) {
    checkAddress(bare, policy, host);
    return [bare];
  }
  let addresses: { address: string }[];
  try {
    addresses = await lookup(bare, { all: true, verbatim: true });
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    // NXDOMAIN may be a typo or a DNS outage; trying again later costs little.
    throw new OutboundFailed(`cannot resolve ${host}: ${code}`, true, { cause: err });
  }
  if (addresses.length === 0) throw new OutboundFailed(`cannot resolve ${host}: no addresses`, true);
  for (const { address } of addresses) checkAddress(address, policy, host);
  return addresses.map((a) => a.address);
}

/** Parses and checks a URL: http: or https: only, and a host the policy allows. Returns the parsed URL to fetch. */
export async function checkUrl(url: string, policy: OutboundPolicy): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundBlocked(`"${url.slice(0, 200)}" is not a valid URL`, "invalid-url");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OutboundBlocked(`${parsed.protocol} URLs are not allowed for outbound requests; use http: or https:`, "scheme");
  }
  // The WHATWG parser has already turned 2130706433, 127.1, 0x7f.1 and 0177.0.0.1 into 127.0.0.1.
  await checkHost(parsed.hostname, policy);
  return parsed;
}

/** A URL for messages and logs: the origin only, since webhook URLs (Slack, Discord) carry their secret in the path. */
export function redactUrl(url: string | URL): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    return u.pathname === "/" && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return "(invalid URL)";
  }
}

export interface OutboundOptions {
  /** For the whole exchange, redirects and DNS included. Default 10 s. */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Rejects when `signal` aborts, so a hung DNS lookup (which cannot be cancelled) still ends on time. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * fetch() for operator-supplied URLs: checks the URL against the policy, follows redirects itself
 * (checking every hop, so a public URL cannot bounce the head to 169.254.169.254) and gives up after
 * `timeoutMs`. Throws OutboundBlocked (refused) or OutboundFailed (DNS, connect, timeout, redirect loop).
 * `init.body` must be replayable (a string or bytes) for 307/308 redirects.
 *
 * DNS rebinding: the name is resolved here and again by fetch when it connects, and fetch offers no
 * way to pin the checked address (connecting to the IP would break TLS and virtual hosts). A name
 * that answers a public address to the check and a private one to fetch a moment later gets
 * through; the always-refused ranges make the most valuable targets (metadata) need that race won.
 */
export async function outboundFetch(
  url: string,
  init: RequestInit = {},
  policy: OutboundPolicy = STRICT_POLICY,
  opts: OutboundOptions = {},
): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxRedirects = opts.maxRedirects ?? 5;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  let target: URL | undefined;
  let next = url;

  for (let hop = 0; ; hop++) {
    const from = target;
    try {
      target = await untilAborted(checkUrl(next, policy), signal);
    } catch (err) {
      if (err instanceof OutboundBlocked && from) {
        throw new OutboundBlocked(`${redactUrl(from)} redirected to a refused address: ${err.message}`, err.reason, err.address, err.range);
      }
      throw failure(err, method, from ?? next, timeout, timeoutMs);
    }

    let res: Response;
    try {
      res = await fetch(target, { ...init, method, body, headers, redirect: "manual", signal });
    } catch (err) {
      throw failure(err, method, target, timeout, timeoutMs);
    }
    const location = res.headers.get("location");
    if (!REDIRECTS.has(res.status) || location === null) return res;
    await res.body?.cancel().catch(() => {}); // frees the connection; the redirect's body is never read

    if (hop >= maxRedirects) {
      throw new OutboundFailed(`${method} ${redactUrl(url)}: more than ${maxRedirects} redirects`, false);
    }
    const nextUrl = new URL(location, target);
    // As fetch does: 303, and 301/302 after a POST, become a GET without a body.
    if (res.status === 303 ? method !== "HEAD" : (res.status === 301 || res.status === 302) && method === "POST") {
      method = "GET";
      body = undefined;
      for (const h of ["content-type", "content-length", "content-encoding", "content-language"]) headers.delete(h);
    }
    // Credentials are for the origin they were given to, not for wherever it redirects.
    if (nextUrl.origin !== target.origin) {
      headers.delete("authorization");
      headers.delete("cookie");
      headers.delete("proxy-authorization");
    }
    next = nextUrl.href;
  }
}

function failure(err: unknown, method: string, url: string | URL, timeout: AbortSignal, timeoutMs: number): Error {
  if (err instanceof OutboundBlocked || err instanceof OutboundFailed) return err;
  const where = `${method} ${redactUrl(url)}`;
  if (timeout.aborted) return new OutboundFailed(`${where} timed out after ${timeoutMs} ms`, true, { cause: err });
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "AbortError") return new OutboundFailed(`${where} was aborted`, false, { cause: err });
  const code = e.code ? ` (${e.code})` : "";
  return new OutboundFailed(`${where} failed: ${e.message ?? String(err)}${code}`, true, { cause: err });
}
