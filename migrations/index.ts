// Embeds the SQL migrations into the binary: one import per drizzle-kit migration, in journal order.
import journal from "./meta/_journal.json" with { type: "json" };
import m0000 from "./0000_init.sql" with { type: "text" };
import m0001 from "./0001_auth.sql" with { type: "text" };
import m0002 from "./0002_gpu_details.sql" with { type: "text" };
import m0003 from "./0003_agents.sql" with { type: "text" };
import m0004 from "./0004_history.sql" with { type: "text" };
import m0005 from "./0005_alerts.sql" with { type: "text" };
import m0006 from "./0006_health.sql" with { type: "text" };
import m0007 from "./0007_service_channels.sql" with { type: "text" };

/** SQL text of each migration by its journal tag. A test fails if a file on disk is missing here. */
export const MIGRATION_SQL: Record<string, string> = {
  "0000_init": m0000,
  "0001_auth": m0001,
  "0002_gpu_details": m0002,
  "0003_agents": m0003,
  "0004_history": m0004,
  "0005_alerts": m0005,
  "0006_health": m0006,
  "0007_service_channels": m0007,
};

export const JOURNAL: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] } = journal;
