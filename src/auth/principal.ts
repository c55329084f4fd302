// Who is calling: a signed-in user (session cookie) or an API token, and how they appear in the audit log.
import type { Actor } from "./audit.ts";
import type { Role } from "./roles.ts";

export type Principal =
  | { kind: "user"; userId: number; name: string; role: Role; sessionId: string }
  | { kind: "token"; tokenId: number; name: string; role: Role }
  /** A worker's agent, by its own secret: it may push samples and statuses, nothing else. */
  | { kind: "agent"; workerId: number; name: string; interval: number; secret: string };

export function actorOf(principal: Principal | null, ip: string | null): Actor {
  if (!principal) return { label: "anonymous", ip };
  if (principal.kind === "user") return { label: `user:${principal.name}`, userId: principal.userId, ip };
  if (principal.kind === "agent") return { label: `agent:${principal.name}`, ip };
  return { label: `token:${principal.name}`, ip };
}

/** Bearer tokens are for scripts: they count on the JSON API, its OpenAPI document and /metrics, never on pages. */
export function tokenScope(pathname: string): boolean {
  return pathname.startsWith("/api/v1/") || pathname === "/metrics" || pathname === "/api/openapi.json";
}

/** Where a page route sends an anonymous browser, and where an API answers 401 instead. */
export function wantsJson(pathname: string): boolean {
  return tokenScope(pathname) || pathname === "/healthz";
}
