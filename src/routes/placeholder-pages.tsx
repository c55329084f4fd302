// Pages reserved for parts still to come (health checks, settings): marked placeholders, so the navigation is whole today.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { PlaceholderPage, type PlaceholderSpec } from "../../views/pages/placeholder.tsx";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

/** Path -> what will be there. When a page is built, its line goes and its own route group takes the path. */
export const PLACEHOLDERS: Record<string, PlaceholderSpec> = {
  "/settings": {
    title: "Settings",
    will: "Per-worker thresholds, labels, notification channels and retention, changed from the browser.",
    meanwhile: "Meanwhile settings are environment variables and flags (see the README's Configuration table).",
  },
};

export function placeholderRoutes(ctx: HeadContext) {
  let app = new Elysia({ name: "placeholder-pages" }).use(guard(ctx));
  for (const [path, spec] of Object.entries(PLACEHOLDERS)) {
    app = app.get(path, ({ principal }) => htmlPage(<PlaceholderPage spec={spec} viewer={viewerOf(principal)} />), {
      access: "viewer",
      detail: hidden(),
    });
  }
  return app;
}
