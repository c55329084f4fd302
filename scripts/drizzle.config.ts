// drizzle-kit settings: `bun x drizzle-kit generate --config scripts/drizzle.config.ts` writes migrations/ from src/db/schema.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
