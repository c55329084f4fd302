// The route registry: every feature's Elysia instance, in one list (adding a route group is one line here).
import type { HeadContext } from "../head/context.ts";
import { healthRoutes } from "./health.ts";
import { fleetApiRoutes } from "./api-fleet.ts";
import { pageRoutes } from "./pages.tsx";
import { staticRoutes } from "./static.ts";
import { authPageRoutes } from "./auth-pages.tsx";
import { adminUserRoutes } from "./admin-users.tsx";
import { adminTokenRoutes } from "./admin-tokens.tsx";
import { adminAuditRoutes } from "./admin-audit.tsx";
import { agentRoutes } from "./agents.ts";
import { workerAdminRoutes } from "./api-workers.ts";
import { installRoutes } from "./install.ts";
import { historyApiRoutes } from "./api-history.ts";
import { prometheusRoutes } from "./prometheus.ts";
import { openApiRoutes } from "./openapi.ts";
import { eventRoutes } from "./events.ts";
import { placeholderRoutes } from "./placeholder-pages.tsx";
import { workerPageRoutes } from "./worker-pages.tsx";
import { alertApiRoutes } from "./api-alerts.ts";
import { alertPageRoutes } from "./alert-pages.tsx";
import { alertConfigPageRoutes } from "./alert-config-pages.tsx";
import { healthApiRoutes } from "./api-health.ts";
import { healthPageRoutes } from "./health-pages.tsx";

export const ROUTE_GROUPS = [
  healthRoutes,
  fleetApiRoutes,
  historyApiRoutes,
  pageRoutes,
  staticRoutes,
  authPageRoutes,
  adminUserRoutes,
  adminTokenRoutes,
  adminAuditRoutes,
  agentRoutes,
  workerAdminRoutes,
  installRoutes,
  prometheusRoutes,
  openApiRoutes,
  eventRoutes,
  placeholderRoutes,
  workerPageRoutes,
  alertApiRoutes,
  alertPageRoutes,
  alertConfigPageRoutes,
  healthApiRoutes,
  healthPageRoutes,
] as const satisfies readonly ((ctx: HeadContext) => unknown)[];
