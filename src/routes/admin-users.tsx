// The users page for admins: list, add (with a generated password shown once), change role, reset password, remove.
import { Elysia } from "elysia";
import { generatePassword } from "../auth/passwords.ts";
import { actorOf } from "../auth/principal.ts";
import { clip, InputError } from "../auth/text.ts";
import { addUser, getUser, listUsers, removeUser, setPassword, setRole } from "../auth/users.ts";
import type { HeadContext } from "../head/context.ts";
import { UsersPage } from "../../views/pages/users.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { field, htmlPage, redirect } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

const DONE: Record<string, string> = {
  removed: "User removed; their sessions ended and their tokens were revoked.",
  role: "Role changed.",
};

export function adminUserRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  return new Elysia({ name: "admin-users", prefix: "/admin/users" })
    .use(guard(ctx))
    .get(
      "",
      async ({ principal, query }) =>
        htmlPage(<UsersPage viewer={viewerOf(principal)} users={await listUsers(db)} notice={DONE[String(query.done)]} />),
      { access: "admin", detail: hidden() },
    )
    .post(
      "",
      async ({ body, principal, client }) => {
        const given = field(body, "password");
        const password = given === "" ? generatePassword() : given;
        try {
          const user = await addUser(db, actorOf(principal, client.ip), { name: field(body, "name"), role: field(body, "role"), password });
          return htmlPage(
            <UsersPage
              viewer={viewerOf(principal)}
              users={await listUsers(db)}
              notice={given === "" ? undefined : `User added.`}
              secret={given === "" ? { user: clip(user.name, 200), password } : undefined}
            />,
            201,
          );
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return htmlPage(<UsersPage viewer={viewerOf(principal)} users={await listUsers(db)} error={`Not added: ${err.message}.`} />, 400);
        }
      },
      { access: "admin", detail: hidden() },
    )
    .post(
      "/:id/:action",
      async ({ params, body, principal, client }) => {
        const actor = actorOf(principal, client.ip);
        const user = /^\d{1,9}$/.test(params.id) ? await getUser(db, Number(params.id)) : undefined;
        const fail = async (message: string, status = 400) =>
          htmlPage(<UsersPage viewer={viewerOf(principal)} users={await listUsers(db)} error={message} />, status);
        if (!user) return fail("No such user (removed meanwhile?).", 404);
        try {
          switch (params.action) {
            case "role":
              await setRole(db, actor, user.name, field(body, "role"));
              return redirect("/admin/users?done=role");
            case "remove":
              await removeUser(db, actor, user.name);
              return redirect("/admin/users?done=removed");
            case "password": {
              const password = generatePassword();
              await setPassword(db, actor, user.name, password);
              return htmlPage(
                <UsersPage viewer={viewerOf(principal)} users={await listUsers(db)} secret={{ user: clip(user.name, 200), password }} />,
              );
            }
            default:
              return fail(`Unknown action.`, 404);
          }
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return fail(`Not changed: ${err.message}.`);
        }
      },
      { access: "admin", detail: hidden() },
    );
}
