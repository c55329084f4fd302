// The whole drizzle schema, one import for the client and for drizzle-kit; each table group has its own file.
export * from "./fleet.ts";
export * from "./samples.ts";
export * from "./auth.ts";
export * from "./history.ts";
export * from "./alerts.ts";
export * from "./health.ts";
