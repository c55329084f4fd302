// Sign-in, sign-out and change-password pages: the only routes that create or end browser sessions.
import { Elysia } from "elysia";
import { audit } from "../auth/audit.ts";
import { dummyPasswordHash, verifyPassword } from "../auth/passwords.ts";
import { actorOf } from "../auth/principal.ts";
import { createSession, endSession, SESSION_COOKIE } from "../auth/sessions.ts";
import { clip, InputError } from "../auth/text.ts";
import { findUser, getUser, setPassword } from "../auth/users.ts";
import { users } from "../db/schema/index.ts";
import { eq } from "drizzle-orm";
import type { HeadContext } from "../head/context.ts";
import { LoginPage } from "../../views/pages/login.tsx";
import { PasswordPage } from "../../views/pages/password.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { field, htmlPage, redirect, safeNext } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

function sessionCookie(secret: string, secure: boolean, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

function withCookie(res: Response, cookie: string): Response {
  res.headers.append("set-cookie", cookie);
  return res;
}

export function authPageRoutes(ctx: HeadContext) {
  const db = ctx.database.db;
  const policy = ctx.security.sessions;
  const maxAgeSeconds = Math.floor(policy.maxMs / 1000);

  return new Elysia({ name: "auth-pages" })
    .use(guard(ctx))
    .get(
      "/login",
      ({ query, principal }) => {
        const next = safeNext(query.next);
        if (principal?.kind === "user") return redirect(next);
        const notice =
          query.done === "logout" ? "Signed out." : query.done === "password" ? "Password changed. Sign in with the new one." : undefined;
        return htmlPage(<LoginPage next={next} notice={notice} />);
      },
      { access: "public", detail: hidden() },
    )
    .post(
      "/login",
      async ({ body, client, request }) => {
        const name = field(body, "name").trim();
        const password = field(body, "password");
        const next = safeNext(field(body, "next"));
        const address = client.ip ?? "unknown";
        const actor = { label: "anonymous", ip: client.ip };
        const shownName = name.length > 200 ? "" : name; // do not echo a 64 KiB field back into the form

        const attempt = ctx.security.limiter.attempt(name, address);
        const verdict = attempt.verdict;
        if (!verdict.allowed) {
          const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
          const why = verdict.reason === "account" ? "this account" : "your address";
          await audit(db, actor, {
            action: "login.blocked",
            target: name,
            details: { reason: verdict.reason, retryAfterSeconds: verdict.retryAfterSeconds },
          });
          const res = await htmlPage(
            <LoginPage
              next={next}
              name={shownName}
              error={`Too many failed sign-ins for ${why}. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`}
            />,
            429,
          );
          res.headers.set("retry-after", String(verdict.retryAfterSeconds));
          return res;
        }

        const user = name ? await findUser(db, name) : undefined;
        // Verify against a dummy hash for unknown names, so response time does not reveal which names exist.
        const ok = (await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))) && user !== undefined;
        if (!ok || !user) {
          await audit(db, actor, { action: "login.failure", target: name, details: { knownUser: user !== undefined } });
          return htmlPage(<LoginPage next={next} name={shownName} error="Wrong user name or password." />, 401);
        }
        attempt.succeeded();
        const { secret } = await createSession(db, user.id, policy, { ip: client.ip, userAgent: request.headers.get("user-agent") });
        await db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, user.id));
        await audit(db, { label: `user:${user.name}`, userId: user.id, ip: client.ip }, { action: "login.success", target: user.name });
        return withCookie(redirect(next), sessionCookie(secret, client.secure, maxAgeSeconds));
      },
      { access: "public", detail: hidden() },
    )
    .post(
      "/logout",
      async ({ cookie, client, principal }) => {
        const secret = cookie[SESSION_COOKIE]?.value;
        if (typeof secret === "string" && secret) await endSession(db, secret);
        if (principal?.kind === "user") await audit(db, actorOf(principal, client.ip), { action: "logout", target: principal.name });
        return withCookie(redirect("/login?done=logout"), clearedCookie(client.secure));
      },
      { access: "viewer", detail: hidden() },
    )
    .get("/account/password", ({ principal }) => htmlPage(<PasswordPage viewer={viewerOf(principal)} />), {
      access: "viewer",
      detail: hidden(),
    })
    .post(
      "/account/password",
      async ({ body, principal, client, request }) => {
        const viewer = viewerOf(principal);
        if (principal?.kind !== "user")
          return htmlPage(<PasswordPage viewer={viewer} error="Only people signed in with a password can change it." />, 400);
        const user = await getUser(db, principal.userId);
        if (!user) return redirect("/login");
        const current = field(body, "current");
        const next = field(body, "password");
        // The current password is a password guess like any other: throttled the same way.
        const attempt = ctx.security.limiter.attempt(user.name, client.ip ?? "unknown");
        if (!attempt.verdict.allowed) {
          return htmlPage(<PasswordPage viewer={viewer} error="Too many wrong passwords. Try again later." />, 429);
        }
        if (!(await verifyPassword(current, user.passwordHash))) {
          await audit(db, actorOf(principal, client.ip), {
            action: "login.failure",
            target: user.name,
            details: { during: "password change" },
          });
          return htmlPage(<PasswordPage viewer={viewer} error="The current password is wrong." />, 400);
        }
        attempt.succeeded();
        if (next !== field(body, "confirm")) return htmlPage(<PasswordPage viewer={viewer} error="The two new passwords differ." />, 400);
        try {
          await setPassword(db, actorOf(principal, client.ip), user.name, next);
        } catch (err) {
          if (err instanceof InputError)
            return htmlPage(<PasswordPage viewer={viewer} error={`Not changed: ${clip(err.message)}.`} />, 400);
          throw err;
        }
        // Every session ended with the old password; this browser gets a fresh one.
        const { secret } = await createSession(db, user.id, policy, { ip: client.ip, userAgent: request.headers.get("user-agent") });
        const res = await htmlPage(<PasswordPage viewer={viewer} notice="Password changed. Your other sessions were signed out." />);
        return withCookie(res, sessionCookie(secret, client.secure, maxAgeSeconds));
      },
      { access: "viewer", detail: hidden() },
    );
}
