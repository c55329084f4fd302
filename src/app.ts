// Builds the head's HTTP application from the route registry, with one error handler for every route.
import { Elysia } from "elysia";
import type { HeadContext } from "./head/context.ts";
import { log } from "./log.ts";
import { ROUTE_GROUPS } from "./routes/index.ts";
import { knownFailure } from "./routes/respond.ts";
import { SECURITY_HEADERS } from "./auth/security.ts";
import { ACCESS_DETAIL_KEY } from "./auth/plugin.ts";
import { MAX_MESSAGE_BYTES } from "./protocol/messages.ts";

export function createApp(ctx: HeadContext) {
  // WebSocket messages above MAX_MESSAGE_BYTES are refused by the server before they are parsed.
  let app = new Elysia({ websocket: { maxPayloadLength: MAX_MESSAGE_BYTES, idleTimeout: 120 } })
    .onRequest(({ set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
    })
    .onError(({ code, error, request }) => {
      const path = new URL(request.url).pathname;
      // Explicit Responses: plugins' response mapping (the HTML plugin) must not reshape error bodies.
      if (code === "NOT_FOUND") return Response.json({ error: "not found", path }, { status: 404 });
      if (code === "VALIDATION" || code === "PARSE") {
        const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
        return Response.json({ error: message }, { status: 400 });
      }
      const known = knownFailure(error);
      if (known) return Response.json({ error: known.error }, { status: known.status });
      log.error("request failed", { path, code, error });
      return Response.json({ error: "internal error; see the head's log" }, { status: 500 });
    });
  for (const group of ROUTE_GROUPS) app = app.use(group(ctx)) as unknown as typeof app;
  // Default deny, decided at start-up: a route that does not say who may call it stops the head.
  const undeclared = app.routes.filter((r) => !accessOf(r));
  if (undeclared.length) throw new Error(`routes without an access rule: ${undeclared.map((r) => `${r.method} ${r.path}`).join(", ")}`);
  return app;
}

/** The access rule a route declared through the guard's `access` option. */
export function accessOf(route: { hooks?: { detail?: unknown } }): string | undefined {
  const detail = route.hooks?.detail as Record<string, unknown> | undefined;
  const rule = detail?.[ACCESS_DETAIL_KEY];
  return typeof rule === "string" ? rule : undefined;
}
