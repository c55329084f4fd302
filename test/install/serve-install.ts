// A compiled stand-in for `vigil serve` with only the install routes (and /healthz), so downloads are tested as a real binary apart from the route registry.
import { Elysia } from "elysia";
import { securityFrom } from "../../src/auth/security.ts";
import { parseCommandConfig } from "../../src/config.ts";
import { HEAD_SETTINGS, type HeadContext } from "../../src/head/context.ts";
import { installRoutes } from "../../src/routes/install.ts";

const port = Number(process.argv[2]);
const config = parseCommandConfig("serve", HEAD_SETTINGS, [], {}).config;
// The guard touches the database only for a session cookie or a bearer token, which these requests never carry.
const ctx = { config, security: securityFrom(config), database: { db: undefined }, startedAt: new Date() } as unknown as HeadContext;
new Elysia()
  .get("/healthz", () => ({ status: "ok" }))
  .use(installRoutes(ctx))
  .listen({ hostname: "127.0.0.1", port });
