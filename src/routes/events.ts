// GET /events?view=…: the SSE stream of one open page, carrying the HTML of its regions as they change (see src/live/).
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { SSE_HEADERS } from "../live/stream.ts";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";

export function eventRoutes(ctx: HeadContext) {
  return new Elysia({ name: "events" }).use(guard(ctx)).get(
    "/events",
    ({ query, request }) => {
      const view = typeof query.view === "string" ? query.view : "";
      const opened = ctx.live.open(view);
      if (!opened.ok) {
        // A full head asks the browser to come back later; htmx's backoff does, and the page stays a static snapshot meanwhile.
        const headers: Record<string, string> = opened.status === 503 ? { "retry-after": "30" } : {};
        return Response.json({ error: opened.error }, { status: opened.status, headers });
      }
      const sub = opened.subscriber;
      // Besides the body's cancel: a client that disconnects before the first frame is noticed here.
      request.signal.addEventListener("abort", () => sub.end("client went away"), { once: true });
      return new Response(sub.stream, { headers: SSE_HEADERS });
    },
    { access: "viewer", detail: hidden() },
  );
}
