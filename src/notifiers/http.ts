// Posting to a chat or webhook service through the guarded fetch, with every failure turned into a DeliveryError.
import { OutboundBlocked, OutboundFailed, redactUrl } from "../net/outbound.ts";
import { DeliveryError, describeFailure, isRetryableStatus, type SendContext } from "./notifier.ts";

/** The most of a service's answer kept on a DeliveryError (the message holds less: see describeFailure). */
const KEPT_BODY_CHARS = 2_000;

/**
 * POSTs to `url` and returns the service's answer when it is 2xx. `service` names the channel in
 * messages ("Slack", "webhook"); the URL appears as its origin only, since chat webhook URLs carry
 * their token in the path.
 */
export async function postToService(ctx: SendContext, service: string, url: string, init: RequestInit): Promise<string> {
  const where = `${service} ${redactUrl(url)}`;
  let res: Response;
  try {
    res = await ctx.fetch(url, { ...init, method: "POST" });
  } catch (err) {
    throw deliveryErrorOf(err, where);
  }
  let body: string;
  try {
    body = await res.text();
  } catch (err) {
    // The status is what counts: a 2xx whose body broke off was still accepted.
    if (res.ok) return "";
    body = `(answer unreadable: ${(err as Error).message})`;
  }
  if (res.ok) return body;
  throw new DeliveryError(`${where}: ${describeFailure(res, body)}`, {
    status: res.status,
    body: body.slice(0, KEPT_BODY_CHARS),
    retryable: isRetryableStatus(res.status),
    ...retryAfter(res),
  });
}

/** A DeliveryError for a request that never got an answer: refused by the policy (never retried) or failed on the way. */
export function deliveryErrorOf(err: unknown, where: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (err instanceof OutboundBlocked) return new DeliveryError(`${where}: ${err.message}`, { retryable: false, cause: err });
  if (err instanceof OutboundFailed) return new DeliveryError(`${where}: ${err.message}`, { retryable: err.retryable, cause: err });
  // Anything else from fetch is a network problem that may pass.
  return new DeliveryError(`${where}: ${(err as Error)?.message ?? String(err)}`, { retryable: true, cause: err });
}

/** Retry-After in seconds (delta or HTTP date), as services send with 429 and 503. */
function retryAfter(res: Response): { retryAfterSeconds?: number } {
  const value = res.headers.get("retry-after")?.trim();
  if (!value) return {};
  if (/^\d+$/.test(value)) return { retryAfterSeconds: Number(value) };
  const at = Date.parse(value);
  return Number.isNaN(at) ? {} : { retryAfterSeconds: Math.max(0, Math.ceil((at - Date.now()) / 1000)) };
}
