// The route registry: every feature's Elysia instance, in one list (adding a route group is one line here).
import { healthRoutes } from "./health.ts";
import { fleetApiRoutes } from "./api-fleet.ts";
import { pageRoutes } from "./pages.tsx";
import { staticRoutes } from "./static.ts";
import type { HeadContext } from "../head/context.ts";

export const ROUTE_GROUPS = [
  (ctx: HeadContext) => healthRoutes(ctx),
  (ctx: HeadContext) => fleetApiRoutes(ctx),
  (ctx: HeadContext) => pageRoutes(ctx),
  (_ctx: HeadContext) => staticRoutes(),
];
