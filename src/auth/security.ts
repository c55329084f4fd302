// The head's security settings in one object: trusted proxies, session lifetimes, login throttling, the public origin.
import type { Config } from "../config.ts";
import { TrustedProxies } from "./client-ip.ts";
import { LoginLimiter, type LimitPolicy } from "./ratelimit.ts";
import type { SessionPolicy } from "./sessions.ts";

export interface Security {
  proxies: TrustedProxies;
  sessions: SessionPolicy;
  limiter: LoginLimiter;
  /** Origin forms must come from; undefined: the origin the request was addressed to. */
  publicOrigin: string | undefined;
}

export function securityFrom(
  config: Pick<Config, "trustedProxies" | "sessionIdle" | "sessionMax" | "publicUrl">,
  limits?: LimitPolicy,
): Security {
  return {
    proxies: new TrustedProxies(config.trustedProxies),
    sessions: { idleMs: config.sessionIdle * 1000, maxMs: config.sessionMax * 1000 },
    limiter: new LoginLimiter(limits),
    publicOrigin: config.publicUrl,
  };
}

/**
 * Headers on every response. The policy allows scripts and styles from /static only: no inline
 * script anywhere, so an injected <script> cannot run even if escaping ever failed.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};
