// Small response helpers shared by the route groups: a page with a status, a redirect, form fields, a JSON failure.
import { InputError } from "../auth/text.ts";
import { WorkerNotConnected } from "../fleet/restarts.ts";
export async function htmlPage(body: JSX.Element, status = 200): Promise<Response> {
  return new Response(await body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

/** 303: after a form POST the browser GETs the new page, so a reload does not post again. */
export function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

/** A form field as a string ("" when absent or not text): forms are untrusted input of any shape. */
export function field(body: unknown, name: string): string {
  if (body && typeof body === "object" && name in body) {
    const v = (body as Record<string, unknown>)[name];
    if (typeof v === "string") return v;
  }
  return "";
}

/** Only same-site paths: `next=//evil.example` or `next=https://…` would make the login an open redirect. */
export function safeNext(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  return raw;
}

/** A path parameter decoded (Elysia leaves them encoded); a malformed escape is kept as typed, so it names nothing rather than failing. */
export function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * What a handler's failure means to its caller: an InputError is the caller's to fix (404 when it names
 * something that does not exist, 400 otherwise), a worker whose agent is away a 409; anything else is
 * undefined here, a fault of the head (500, logged). The app's error handler answers every route group
 * with it, so handlers just throw.
 */
export function knownFailure(err: unknown): { status: number; error: string } | undefined {
  if (err instanceof InputError) return { status: err.message.startsWith("no ") ? 404 : 400, error: err.message };
  if (err instanceof WorkerNotConnected) return { status: 409, error: err.message };
  return undefined;
}

/** For a handler that catches to answer some failures its own way: the known ones as knownFailure says, the rest thrown on. */
export function failJson(set: { status?: number | string }, err: unknown): { error: string } {
  const known = knownFailure(err);
  if (!known) throw err;
  set.status = known.status;
  return { error: known.error };
}
