// The API tokens page for admins: list, create (the token is shown once), revoke.
import { Elysia } from "elysia";
import { actorOf } from "../auth/principal.ts";
import { InputError } from "../auth/text.ts";
import { createToken, listTokens, revokeToken } from "../auth/tokens.ts";
import type { HeadContext } from "../head/context.ts";
import { TokensPage } from "../../views/pages/tokens.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { field, htmlPage, redirect } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

export function adminTokenRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  return new Elysia({ name: "admin-tokens", prefix: "/admin/tokens" })
    .use(guard(ctx))
    .get(
      "",
      async ({ principal, query }) =>
        htmlPage(
          <TokensPage
            viewer={viewerOf(principal)}
            tokens={await listTokens(db)}
            notice={query.done === "revoked" ? "Token revoked." : undefined}
          />,
        ),
      { access: "admin", detail: hidden() },
    )
    .post(
      "",
      async ({ body, principal, client }) => {
        const fail = async (message: string) =>
          htmlPage(<TokensPage viewer={viewerOf(principal)} tokens={await listTokens(db)} error={message} />, 400);
        const daysRaw = field(body, "expiresDays").trim();
        let expiresAt: Date | null = null;
        if (daysRaw !== "") {
          const days = Number(daysRaw);
          if (!Number.isInteger(days) || days < 1 || days > 3650)
            return fail("Not created: expiry must be 1 to 3650 days, or empty for never.");
          expiresAt = new Date(Date.now() + days * 86_400_000);
        }
        try {
          const { token, info } = await createToken(db, actorOf(principal, client.ip), {
            name: field(body, "name"),
            role: field(body, "role"),
            expiresAt,
          });
          return htmlPage(
            <TokensPage viewer={viewerOf(principal)} tokens={await listTokens(db)} created={{ name: info.name.slice(0, 200), token }} />,
            201,
          );
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return fail(`Not created: ${err.message}.`);
        }
      },
      { access: "admin", detail: hidden() },
    )
    .post(
      "/:id/revoke",
      async ({ params, principal, client }) => {
        try {
          if (!/^\d{1,9}$/.test(params.id)) throw new InputError("no such token");
          await revokeToken(db, actorOf(principal, client.ip), Number(params.id));
          return redirect("/admin/tokens?done=revoked");
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          return htmlPage(
            <TokensPage viewer={viewerOf(principal)} tokens={await listTokens(db)} error={`Not revoked: ${err.message}.`} />,
            404,
          );
        }
      },
      { access: "admin", detail: hidden() },
    );
}
