// The audit log page for admins (read-only: nothing in the app edits the log).
import { Elysia } from "elysia";
import { listAudit } from "../auth/audit.ts";
import type { HeadContext } from "../head/context.ts";
import { AuditPage } from "../../views/pages/audit.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

const PAGE = 200;

export function adminAuditRoutes(ctx: HeadContext) {
  return new Elysia({ name: "admin-audit" }).use(guard(ctx)).get(
    "/admin/audit",
    async ({ principal, query }) => {
      const before = /^\d{1,15}$/.test(String(query.before ?? "")) ? Number(query.before) : undefined;
      const rows = await listAudit(ctx.database.db, { limit: PAGE, before });
      const nextBefore = rows.length === PAGE ? rows.at(-1)!.id : null;
      return htmlPage(<AuditPage viewer={viewerOf(principal)} rows={rows} nextBefore={nextBefore} />);
    },
    { access: "admin", detail: hidden() },
  );
}
