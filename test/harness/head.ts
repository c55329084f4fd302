// An in-process head for route tests: a fresh database with an admin and a viewer, and requests made as anyone.
import type { Engine, Database } from "../../src/db/client.ts";
import { createApp } from "../../src/app.ts";
import { parseCommandConfig } from "../../src/config.ts";
import { SYSTEM } from "../../src/auth/audit.ts";
import { peerAddress } from "../../src/auth/peer.ts";
import type { LimitPolicy } from "../../src/auth/ratelimit.ts";
import { createSession, SESSION_COOKIE } from "../../src/auth/sessions.ts";
import { createToken } from "../../src/auth/tokens.ts";
import { addUser } from "../../src/auth/users.ts";
import { addWorker, enroll } from "../../src/fleet/enrollment.ts";
import { HEAD_SETTINGS, type HeadContext } from "../../src/head/context.ts";
import { log } from "../../src/log.ts";
import { freshDatabase } from "./engines.ts";
import { assembleHead } from "../../src/head/assemble.ts";
import type { HubOptions } from "../../src/live/hub.ts";

export const ORIGIN = "http://vigil.test";
export const PASSWORDS = { admin: "admin-password-1", viewer: "viewer-password-1" } as const;

export type As = "anonymous" | "viewer" | "admin" | "viewer-token" | "admin-token" | "agent";

export interface RequestOptions {
  as?: As;
  method?: string;
  /** Form fields (sent urlencoded) or a JSON value. */
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /** The TCP peer the server would have seen. */
  peer?: string;
  /** Leave out the same-origin headers a browser sends with a form. */
  crossSite?: boolean;
  cookie?: string;
}

export interface TestHead {
  ctx: HeadContext;
  database: Database;
  app: ReturnType<typeof createApp>;
  userIds: { admin: number; viewer: number };
  tokens: { admin: string; viewer: string };
  /** An enrolled worker's agent: its id and secret. */
  agent: { workerId: number; name: string; secret: string };
  /** A fresh session cookie for the user (each call a new session). */
  cookieFor(who: "admin" | "viewer"): Promise<string>;
  request(path: string, opts?: RequestOptions): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestHead(
  engine: Engine,
  opts: { env?: Record<string, string>; limits?: LimitPolicy; live?: HubOptions } = {},
): Promise<TestHead> {
  const database = await freshDatabase(engine);
  const config = parseCommandConfig("serve", HEAD_SETTINGS, [], opts.env ?? {}).config;
  // Retention timers far off: tests roll up and prune when they choose, through ctx.retention.
  const ctx: HeadContext = await assembleHead({
    config,
    database,
    log,
    flushIntervalMs: 10,
    limits: opts.limits,
    live: opts.live,
    rollupEveryMs: 3600_000,
    firstPruneAfterMs: 3600_000,
  });
  const { writer, retention, security } = ctx;
  const app = createApp(ctx);
  const admin = await addUser(database.db, SYSTEM, { name: "root-admin", role: "admin", password: PASSWORDS.admin });
  const viewer = await addUser(database.db, SYSTEM, { name: "val-viewer", role: "viewer", password: PASSWORDS.viewer });
  const adminToken = (await createToken(database.db, SYSTEM, { name: "admin-script", role: "admin" })).token;
  const viewerToken = (await createToken(database.db, SYSTEM, { name: "viewer-script", role: "viewer" })).token;
  const userIds = { admin: admin.id, viewer: viewer.id };
  const ticket = await addWorker(database.db, SYSTEM, "agent-under-test");
  const agent = await enroll(database.db, ticket.token, { hostname: "agent-under-test", machineId: "test" });

  const cookieFor = async (who: "admin" | "viewer") => {
    const { secret } = await createSession(database.db, userIds[who], security.sessions);
    return `${SESSION_COOKIE}=${secret}`;
  };

  return {
    ctx,
    database,
    app,
    userIds,
    tokens: { admin: adminToken, viewer: viewerToken },
    agent: { workerId: agent.workerId, name: agent.name, secret: agent.secret },
    cookieFor,
    async request(path, o = {}) {
      const method = o.method ?? (o.form || o.json !== undefined ? "POST" : "GET");
      const headers: Record<string, string> = { host: "vigil.test", ...o.headers };
      const as = o.as ?? "anonymous";
      if (as === "admin" || as === "viewer") headers.cookie = await cookieFor(as);
      if (as === "admin-token") headers.authorization = `Bearer ${adminToken}`;
      if (as === "viewer-token") headers.authorization = `Bearer ${viewerToken}`;
      if (as === "agent") headers.authorization = `Bearer ${agent.secret}`;
      if (o.cookie) headers.cookie = o.cookie;
      // What a browser adds to a same-origin form post.
      if (method !== "GET" && !o.crossSite && !as.endsWith("-token") && as !== "agent") {
        headers.origin ??= ORIGIN;
        headers["sec-fetch-site"] ??= "same-origin";
      }
      let body: string | undefined;
      if (o.form) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(o.form).toString();
      } else if (o.json !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(o.json);
      }
      const req = new Request(`${ORIGIN}${path}`, { method, headers, body, redirect: "manual" });
      peerAddress.set(req, o.peer ?? "127.0.0.1");
      return app.handle(req);
    },
    async close() {
      ctx.live.stop();
      await ctx.health.stop();
      await ctx.alerts.stop();
      await ctx.deliveries.stop();
      await retention.stop();
      await writer.close();
      await database.close();
    },
  };
}

/** The session cookie a response sets, as `name=value` for the next request. */
export function setCookieOf(res: Response): string | undefined {
  const raw = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return raw?.split(";")[0];
}
