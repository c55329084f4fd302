// The alert configuration pages (admins): the threshold editor, built-in rules and settings, notification channels with test send.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";

export function alertConfigPageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "alert-config-pages" }).use(guard(ctx));
}
