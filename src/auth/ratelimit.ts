// Login throttling: failed attempts counted per account and per client address over a sliding window.
import { createHash } from "node:crypto";

export interface LimitPolicy {
  /** Failures allowed per account within the window before it is refused. */
  perAccount: number;
  /** Failures allowed per client address within the window (password spraying across accounts). */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LimitPolicy = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000 };

export type LimitVerdict = { allowed: true } | { allowed: false; reason: "account" | "address"; retryAfterSeconds: number };

/** An attempt counted in advance; `succeeded()` takes it back when the password was right. */
export interface Attempt {
  verdict: LimitVerdict;
  succeeded(): void;
}

/** Keys kept at most; beyond it the least recently failing are forgotten first. */
const MAX_KEYS = 50_000;

/**
 * Kept in memory: losing the counts on a restart only gives an attacker one more window, and the
 * audit log keeps every failure. (Several heads each count their own; see the scale-out issue.)
 */
export class LoginLimiter {
  private failures = new Map<string, number[]>();

  constructor(
    private readonly policy: LimitPolicy = DEFAULT_LOGIN_LIMITS,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  get trackedKeys(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    const cut = now - this.policy.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cut);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  /** Refused until enough failures age out that fewer than `limit` remain in the window. */
  private verdictFor(list: number[], limit: number, reason: "account" | "address", now: number): LimitVerdict | undefined {
    if (list.length < limit) return undefined;
    const freesAt = list[list.length - limit]! + this.policy.windowMs;
    return { allowed: false, reason, retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now) / 1000)) };
  }

  check(account: string, address: string, now = Date.now()): LimitVerdict {
    return (
      this.verdictFor(this.recent(accountKey(account), now), this.policy.perAccount, "account", now) ??
      this.verdictFor(this.recent(`i:${address}`, now), this.policy.perAddress, "address", now) ?? { allowed: true }
    );
  }

  /** Records a failure now (moving both keys to the young end, then trimming the old end). */
  fail(account: string, address: string, now = Date.now()): void {
    for (const key of [accountKey(account), `i:${address}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.delete(key);
      this.failures.set(key, list);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(key);
    }
  }

  /**
   * Checks and, when allowed, counts the attempt as a failure before the password is verified,
   * so many requests in flight at once cannot all slip under the limit.
   */
  attempt(account: string, address: string, now = Date.now()): Attempt {
    const verdict = this.check(account, address, now);
    if (!verdict.allowed) return { verdict, succeeded: () => {} };
    this.fail(account, address, now);
    return {
      verdict,
      succeeded: () => {
        this.succeed(account);
        const list = this.failures.get(`i:${address}`);
        const i = list?.lastIndexOf(now) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
      },
    };
  }

  /** A successful login clears the account's failures (not the address's: a sprayer may own one account). */
  succeed(account: string): void {
    this.failures.delete(accountKey(account));
  }
}

/** Account names may be 64 KiB: long ones are kept as a digest so the map stays small. */
function accountKey(account: string): string {
  return account.length <= 128 ? `a:${account}` : `a#${createHash("sha256").update(account).digest("hex")}`;
}
