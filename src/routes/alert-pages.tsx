// The alerts page: what is firing, pending and silenced now, acknowledge and silence, maintenance windows, and the history.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";

export function alertPageRoutes(ctx: HeadContext) {
  return new Elysia({ name: "alert-pages" }).use(guard(ctx));
}
