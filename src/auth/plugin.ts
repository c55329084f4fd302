// The Elysia plugin every route group uses: identifies the caller, enforces each route's declared access, refuses cross-site writes.
import { Elysia, type DocumentDecoration } from "elysia";
import type { Db } from "../db/client.ts";
import { clientInfo, type ClientInfo } from "./client-ip.ts";
import { peerAddress } from "./peer.ts";
import { tokenScope, wantsJson, type Principal } from "./principal.ts";
import { roleAllows, type Access } from "./roles.ts";
import type { Security } from "./security.ts";
import { resolveSession, SESSION_COOKIE } from "./sessions.ts";
import { resolveToken } from "./tokens.ts";
import { authenticateAgent } from "../fleet/enrollment.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The rule travels in the route's OpenAPI detail as an extension, where the route test and the API docs read it. */
export const ACCESS_DETAIL_KEY = "x-vigil-access";
function accessDetail(rule: Access): DocumentDecoration {
  const detail: DocumentDecoration & { [ACCESS_DETAIL_KEY]: Access } = { [ACCESS_DETAIL_KEY]: rule };
  return detail;
}

export interface AuthDeps {
  db: Db;
  security: Security;
}

function denied(status: 401 | 403, pathname: string, search: string, message: string): Response {
  if (wantsJson(pathname)) {
    const headers: Record<string, string> = status === 401 ? { "www-authenticate": 'Bearer realm="vigil"' } : {};
    return Response.json({ error: message }, { status, headers });
  }
  if (status === 401) {
    const next = encodeURIComponent(pathname + search);
    return new Response(null, { status: 303, headers: { location: `/login?next=${next}` } });
  }
  return new Response(`<!doctype html><title>Forbidden · Vigil</title><p>${message}</p><p><a href="/">Back to the fleet</a></p>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/**
 * CSRF defence on top of SameSite cookies: a browser's cross-site POST carries Sec-Fetch-Site
 * and Origin, and both must say this origin. Clients that send neither (curl, scripts) are not
 * browsers and cannot be tricked into a request; bearer tokens are never sent automatically.
 */
export function crossSiteRefusal(request: Request, client: ClientInfo, publicOrigin: string | undefined): string | undefined {
  if (!UNSAFE.has(request.method)) return undefined;
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  const expected = publicOrigin ?? (client.host ? `${client.secure ? "https" : "http"}://${client.host}` : undefined);
  if (origin !== null) {
    if (origin === expected) return undefined;
    return `cross-origin request refused: Origin ${origin} is not ${expected ?? "this site"}`;
  }
  if (site !== null && site !== "same-origin" && site !== "none") return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  return undefined;
}

export function authPlugin(deps: AuthDeps) {
  return new Elysia({ name: "auth" })
    .derive({ as: "global" }, async ({ request, cookie, server }) => {
      // The socket's peer: from the server when Elysia listens itself, from the WeakMap when a test injects one.
      const peer = peerAddress.get(request) ?? server?.requestIP(request)?.address ?? null;
      const client = clientInfo(request, peer, deps.security.proxies);
      let principal: Principal | null = null;
      const authz = request.headers.get("authorization");
      const pathname = new URL(request.url).pathname;
      if (authz && /^bearer\s+/i.test(authz)) {
        const bearer = authz.replace(/^bearer\s+/i, "").trim();
        if (pathname.startsWith("/api/v1/agent/") || pathname === "/api/v1/ingest") {
          const a = await authenticateAgent(deps.db, bearer);
          if (a) principal = { kind: "agent", workerId: a.workerId, name: a.name, interval: a.interval, secret: bearer };
        } else if (tokenScope(pathname)) {
          const t = await resolveToken(deps.db, bearer, client.ip);
          if (t) principal = { kind: "token", ...t };
        }
      } else {
        const secret = cookie[SESSION_COOKIE]?.value;
        if (typeof secret === "string" && secret !== "") {
          const s = await resolveSession(deps.db, secret, deps.security.sessions);
          if (s) principal = { kind: "user", ...s };
        }
      }
      return { client, principal };
    })
    .onBeforeHandle({ as: "global" }, ({ request, client }) => {
      const refusal = crossSiteRefusal(request, client, deps.security.publicOrigin);
      if (refusal) {
        const url = new URL(request.url);
        return wantsJson(url.pathname)
          ? Response.json({ error: refusal }, { status: 403 })
          : denied(403, url.pathname, url.search, refusal);
      }
    })
    .macro({
      /** Every route declares who may call it; the route test fails on one that does not. */
      access: (rule: Access) => ({
        detail: accessDetail(rule),
        beforeHandle({ principal, request }) {
          if (rule === "public") return;
          const url = new URL(request.url);
          if (!principal) {
            const why = request.headers.get("authorization")
              ? "invalid, expired or revoked token"
              : "sign in or send Authorization: Bearer <token>";
            return denied(401, url.pathname, url.search, `authentication required: ${why}`);
          }
          if (rule === "agent") {
            if (principal.kind !== "agent")
              return denied(403, url.pathname, url.search, "forbidden: only a worker's agent, with its own secret, may call this");
            return;
          }
          if (principal.kind === "agent" || !roleAllows(principal.role, rule)) {
            return denied(403, url.pathname, url.search, `forbidden: this needs the ${rule} role`);
          }
        },
      }),
    });
}
