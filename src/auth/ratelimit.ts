// Login throttling: failed attempts counted per account and per client address over a sliding window.
export interface LimitPolicy {
  /** Failures allowed per account within the window before it is refused. */
  perAccount: number;
  /** Failures allowed per client address within the window (password spraying across accounts). */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LimitPolicy = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000 };

export type LimitVerdict = { allowed: true } | { allowed: false; reason: "account" | "address"; retryAfterSeconds: number };

/**
 * Kept in memory: losing the counts on a restart only gives an attacker one more window, and the
 * audit log keeps every failure. (Several heads each count their own; see the scale-out issue.)
 */
export class LoginLimiter {
  private failures = new Map<string, number[]>();

  constructor(private readonly policy: LimitPolicy = DEFAULT_LOGIN_LIMITS) {}

  private recent(key: string, now: number): number[] {
    const cut = now - this.policy.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cut);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  check(account: string, address: string, now = Date.now()): LimitVerdict {
    const byAccount = this.recent(`a:${account}`, now);
    if (byAccount.length >= this.policy.perAccount) {
      return { allowed: false, reason: "account", retryAfterSeconds: Math.ceil((byAccount[0]! + this.policy.windowMs - now) / 1000) };
    }
    const byAddress = this.recent(`i:${address}`, now);
    if (byAddress.length >= this.policy.perAddress) {
      return { allowed: false, reason: "address", retryAfterSeconds: Math.ceil((byAddress[0]! + this.policy.windowMs - now) / 1000) };
    }
    return { allowed: true };
  }

  fail(account: string, address: string, now = Date.now()): void {
    for (const key of [`a:${account}`, `i:${address}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
    // Bound memory under a flood of made-up account names.
    if (this.failures.size > 100_000) {
      for (const key of this.failures.keys()) {
        this.recent(key, now);
        if (this.failures.size <= 50_000) break;
      }
    }
  }

  /** A successful login clears the account's failures (not the address's: a sprayer may own one account). */
  succeed(account: string): void {
    this.failures.delete(`a:${account}`);
  }
}
