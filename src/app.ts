// Builds the head's HTTP application from the route registry, with one error handler for every route.
import { Elysia } from "elysia";
import type { HeadContext } from "./head/context.ts";
import { log } from "./log.ts";
import { ROUTE_GROUPS } from "./routes/index.ts";

export function createApp(ctx: HeadContext) {
  let app = new Elysia().onError(({ code, error, path, set }) => {
    if (code === "NOT_FOUND") {
      set.status = 404;
      return { error: "not found", path };
    }
    if (code === "VALIDATION" || code === "PARSE") {
      set.status = 400;
      return { error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
    }
    log.error("request failed", { path, code, error });
    set.status = 500;
    return { error: "internal error; see the head's log" };
  });
  for (const group of ROUTE_GROUPS) app = app.use(group(ctx)) as unknown as typeof app;
  return app;
}
