// The contract every notification channel implements, and the one way a delivery failure is described.
import type { Static, TObject } from "@sinclair/typebox";
import type { AlertNotification } from "../alerts/notification.ts";

export interface SendContext {
  /** Outbound-guarded fetch (the caller binds the policy and timeout). Throws OutboundBlocked or OutboundFailed. */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** Checks a host the channel will connect to without fetch (SMTP). Throws OutboundBlocked or OutboundFailed. */
  checkHost: (host: string) => Promise<void>;
  timeoutMs: number;
}

export interface Notifier<S extends TObject = TObject> {
  /** Stored with the channel: "webhook" | "slack" | "discord" | "ntfy" | "email" | "dashboard". */
  kind: string;
  /** For people: "Generic webhook". */
  label: string;
  /** The channel's config, with descriptions: validates it, and feeds the API docs and the form. */
  schema: S;
  /** Config fields never shown back by the API (masked). */
  secrets: readonly string[];
  /** Delivers one notification; throws DeliveryError on failure. */
  send(config: Static<S>, n: AlertNotification, ctx: SendContext): Promise<void>;
}

export interface DeliveryErrorInit {
  retryable: boolean;
  /** The HTTP status (or SMTP reply code) the service answered with. */
  status?: number;
  /** The start of the service's answer, for the channel's delivery log. */
  body?: string;
  /** From a 429/503 Retry-After header: the least the caller should wait before trying again. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** A delivery that did not happen. `retryable`: the same notification may get through later (5xx, 408, 429, network). */
export class DeliveryError extends Error {
  // `declare`: an optional field left unset is absent, not an own property holding undefined.
  declare readonly status?: number;
  declare readonly body?: string;
  readonly retryable: boolean;
  declare readonly retryAfterSeconds?: number;

  constructor(message: string, init: DeliveryErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "DeliveryError";
    this.retryable = init.retryable;
    if (init.status !== undefined) this.status = init.status;
    if (init.body !== undefined) this.body = init.body;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** How much of a service's answer goes into a message; enough for "invalid_token", not a whole HTML error page. */
const BODY_CHARS = 200;

/** The one formatter for a service's refusal: "HTTP 500 Internal Server Error: <first 200 chars of body>", on one line. */
export function describeFailure(res: Response, body: string): string {
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const text = body.replace(/\s+/g, " ").trim();
  if (!text) return status;
  return `${status}: ${text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text}`;
}

/** HTTP statuses worth trying again: the service is down or busy, or the request timed out. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
