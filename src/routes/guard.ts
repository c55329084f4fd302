// The auth plugin bound to the head's database and security settings; every route group starts with \`.use(guard(ctx))\`.
import { authPlugin } from "../auth/plugin.ts";
import type { HeadContext } from "../head/context.ts";

export function guard(ctx: HeadContext) {
  return authPlugin({ db: ctx.database.db, security: ctx.security });
}
